"""Tiny synthetic SER corpora for tests and benchmarks (no simulator, no encoder).

Layer 1 of the features carries the emotion (a mean offset on 4 of the
dimensions); ``shift`` offsets every feature of a corpus (the domain shift);
every utterance has three phone segments with a gesture each.
"""

import numpy as np
import pandas as pd

__all__ = ["synth_corpus"]

from agser.ser.data import CorpusData

PHONES = ("ɑ", "i", "u", "ə")


def synth_corpus(name, n=32, speakers=8, layers=3, dim=6, T=20, shift=0.0, seed=0):
    """A :class:`~agser.ser.data.CorpusData` of ``n`` synthetic utterances.

    Parameters
    ----------
    name : str
        Corpus name.
    n, speakers, layers, dim, T : int
        Utterances, speakers, encoder layers, feature size, frames at most.
    shift : float
        Offset added to every feature (domain shift).
    seed : int

    Examples
    --------
    >>> c = synth_corpus("a", n=8)
    >>> c.features.shape, len(c.segments)
    ((8, 3, 20, 6), 24)
    """
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) // speakers) % 4  # every speaker speaks every emotion
    speaker = np.array([f"{name}-s{i % speakers}" for i in range(n)])
    lengths = rng.integers(T // 2, T + 1, size=n)
    feats = rng.normal(size=(n, layers, T, dim)).astype(np.float32)
    feats[:, 1, :, :4] += 1.5 * np.eye(4)[labels][:, None, :]
    feats += shift
    mask = np.arange(T)[None, :] < lengths[:, None]
    feats *= mask[:, None, :, None]
    rows, gestures = [], []
    for u in range(n):
        for k in range(3):
            s = int(k * lengths[u] // 3)
            e = int((k + 1) * lengths[u] // 3)
            ph = PHONES[(u + k) % len(PHONES)]
            rows.append((u, s, max(e, s + 1), ph, (u + k) % 3, len(gestures)))
            gestures.append(rng.normal(size=(4, 24)) + PHONES.index(ph))
    seg = pd.DataFrame(rows, columns=["utt", "start", "end", "ipa", "cluster", "gesture"])
    uid = np.array([f"{name}-{i:03d}" for i in range(n)])
    return CorpusData(corpus=name, features=feats, lengths=lengths, speaker=speaker,
                      utterance_id=uid, labels=labels, segments=seg, gestures=tuple(gestures))


