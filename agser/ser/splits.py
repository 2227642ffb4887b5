"""Speaker-independent splits.

Every corpus is cut into two disjoint speaker groups per seed: half ``"A"``
(training, or the unlabelled adaptation set when the corpus is the target)
and half ``"B"`` (test). No speaker is in both. The cross-corpus methods train
on *all* source utterances and the unlabelled target half A, and are tested on
target half B; the upper bound ``T->T`` trains on the labelled half A of T and
is tested on the same half B, so all methods with the same target share one
test set for a seed.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["speaker_split"]


def speaker_split(speakers, test_fraction=0.5, seed=0):
    """Assign each utterance to ``"A"`` or ``"B"`` by its speaker.

    Parameters
    ----------
    speakers : array-like of str, shape (n_utterances,)
        Speaker of each utterance.
    test_fraction : float
        Share of the *speakers* put in ``"B"`` (rounded, at least one speaker
        in each half).
    seed : int
        Seed of the speaker permutation.

    Returns
    -------
    numpy.ndarray of str, shape (n_utterances,)
        ``"A"`` or ``"B"`` per utterance.

    Examples
    --------
    >>> part = speaker_split(["s1", "s1", "s2", "s3", "s4"], seed=0)
    >>> sorted(set(part.tolist()))
    ['A', 'B']
    """
    speakers = np.asarray(speakers, dtype=str)
    unique = np.unique(speakers)
    if unique.size < 2:
        raise ParameterError(f"a speaker-independent split needs >= 2 speakers, got {unique.size}")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction={test_fraction!r} must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(unique)
    n_test = int(np.clip(round(test_fraction * unique.size), 1, unique.size - 1))
    test = set(order[:n_test])
    return np.array(["B" if s in test else "A" for s in speakers])
