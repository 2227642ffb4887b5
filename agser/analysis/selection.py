"""Which gesture segments an analysis takes: a phone set and an emotion set."""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["FOUR_EMOTIONS", "select_segments"]

#: The paper's four emotions.
FOUR_EMOTIONS = ("neutral", "anger", "happiness", "sadness")


def select_segments(segments, phones="vowels", emotions=FOUR_EMOTIONS):
    """Boolean mask of the segments to cluster.

    Parameters
    ----------
    segments : pandas.DataFrame
        With ``ipa`` and ``emotion`` columns.
    phones : "vowels" | "paper_vowels" | "all" | sequence of str
        ``vowels``: every IPA vowel of :mod:`agser.phones.ipa`;
        ``paper_vowels``: the paper's six (ɑ ə ɛ i æ u).
    emotions : sequence of str or None
        Emotions to keep (None: all, labelled or not).

    Returns
    -------
    numpy.ndarray of bool, (n_segments,)

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ipa": ["i", "t", "ɑ"], "emotion": ["anger", "anger", "fear"]})
    >>> select_segments(df).tolist()
    [True, False, False]
    """
    from agser.phones.ipa import PAPER_VOWELS, VOWELS

    if isinstance(phones, str):
        table = {"vowels": VOWELS, "paper_vowels": set(PAPER_VOWELS), "all": None}
        if phones not in table:
            raise ParameterError(f"cluster.phones={phones!r} must be vowels, paper_vowels, all or a list")
        keep = table[phones]
    else:
        keep = set(phones)
    mask = np.ones(len(segments), dtype=bool)
    if keep is not None:
        mask &= segments["ipa"].astype(str).isin(keep).to_numpy()
    if emotions is not None:
        mask &= segments["emotion"].astype(str).isin(list(emotions)).to_numpy()
    return mask
