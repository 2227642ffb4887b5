"""Tiny synthetic SER corpora for tests and benchmarks (no simulator, no encoder).

Layer 1 of the features carries the emotion (a mean offset on 4 of the
dimensions); ``shift`` offsets every feature of a corpus (the domain shift);
every utterance has three phone segments with a gesture each, an AG
``cluster`` and an ``oracle`` class.
"""

import numpy as np
import pandas as pd

from agser.ser.data import CorpusData

__all__ = ["synth_corpus"]

PHONES = ("ɑ", "i", "u", "ə")


def synth_corpus(name, n=32, speakers=8, layers=3, dim=6, T=20, shift=0.0, seed=0, pool=1):
    """A :class:`~agser.ser.data.CorpusData` of ``n`` synthetic utterances (features in memory).

    Parameters
    ----------
    name : str
        Corpus name.
    n, speakers, layers, dim, T : int
        Utterances, speakers, encoder layers, feature size, frames at most.
    shift : float
        Offset added to every feature (domain shift).
    seed : int
    pool : int
        The set's frame pooling (the features hold ``pool`` times more frames).

    Examples
    --------
    >>> c = synth_corpus("a", n=8)
    >>> len(c), c.features[c.utterance_id[0]].shape[0], len(c.segments)
    (8, 3, 24)
    """
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) // speakers) % 4  # every speaker speaks every emotion
    speaker = np.array([f"{name}-s{i % speakers}" for i in range(n)])
    lengths = rng.integers(T // 2, T + 1, size=n)
    uid = np.array([f"{name}-{i:03d}" for i in range(n)])
    feats = {}
    for i in range(n):
        f = rng.normal(size=(layers, lengths[i] * pool, dim)).astype(np.float32)
        f[1, :, :4] += 1.5 * np.eye(4)[labels[i]][None, :]
        feats[uid[i]] = f + np.float32(shift)
    rows, gestures = [], []
    for u in range(n):
        for k in range(3):
            s = int(k * lengths[u] // 3)
            e = int((k + 1) * lengths[u] // 3)
            ph = PHONES[(u + k) % len(PHONES)]
            rows.append((u, s, max(e, s + 1), ph, (u + k) % 3, len(gestures), PHONES.index(ph) % 2 + 1))
            gestures.append(rng.normal(size=(4, 24)) + PHONES.index(ph))
    seg = pd.DataFrame(rows, columns=["utt", "start", "end", "ipa", "cluster", "gesture", "oracle"])
    return CorpusData(corpus=name, features=feats, utterance_id=uid, speaker=speaker, lengths=lengths,
                      labels=labels, segments=seg, pool=pool, gestures=tuple(gestures))
