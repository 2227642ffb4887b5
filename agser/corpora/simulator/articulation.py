"""Articulation: phone targets, durations and Cohen-Massaro coarticulation.

The articulatory state has six parameters, each a function of time:

========  ======================================================  =========
name      meaning                                                  range
========  ======================================================  =========
jaw       jaw / mouth opening                                      0 .. 1
spread    lip spreading (+) or pursing (-)                         -1 .. 1
round     lip rounding and protrusion                              0 .. 1
closure   lip closure (bilabial 1, labiodental ~0.75)              0 .. 1
tongue    tongue front (+1) / back (-1); hidden, acoustic only     -1 .. 1
rhotic    r-colouring (lowers F3); hidden, acoustic only           0 .. 1
========  ======================================================  =========

Every phone has one target per parameter (diphthongs two, at 30 % and 75 %
of the phone) and a dominance per parameter: a bilabial dominates ``closure``
but barely touches ``spread``, so the lips of /p/ take the shape of the
neighbouring vowels. Following Cohen and Massaro (1993), the trajectory of a
parameter is the dominance-weighted mean of the targets,
``x(t) = sum_s D_s(t) T_s / sum_s D_s(t)`` with
``D_s(t) = alpha_s exp(-theta_s * max(0, |t - c_s| - plateau_s))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.phones.ipa import is_vowel, strip_stress

__all__ = [
    "PARAMS",
    "REST",
    "phone_targets",
    "phone_duration",
    "plan_utterance",
    "trajectories",
]

PARAMS = ("jaw", "spread", "round", "closure", "tongue", "rhotic")
#: The mouth at rest (silence before and after speech).
REST = dict(jaw=0.06, spread=0.0, round=0.0, closure=0.6, tongue=0.0, rhotic=0.0)


def _t(jaw, spread=0.0, rnd=0.0, closure=0.0, tongue=0.0, rhotic=0.0):
    return dict(jaw=jaw, spread=spread, round=rnd, closure=closure, tongue=tongue, rhotic=rhotic)


#: Vowel targets; a list of two for diphthongs (onset, offset).
VOWEL_TARGETS = {
    "AA": [_t(0.85, 0.0, 0.05, tongue=-0.8)],
    "AE": [_t(0.75, 0.45, tongue=0.5)],
    "AH0": [_t(0.40, 0.0, tongue=0.0)],
    "AH": [_t(0.62, 0.0, tongue=-0.3)],
    "AO": [_t(0.70, -0.2, 0.6, tongue=-0.8)],
    "AW": [_t(0.80, 0.0, 0.05, tongue=-0.6), _t(0.30, -0.3, 0.8, tongue=-0.3)],
    "AY": [_t(0.80, 0.05, tongue=-0.5), _t(0.25, 0.5, tongue=0.9)],
    "EH": [_t(0.50, 0.30, tongue=0.6)],
    "ER": [_t(0.35, -0.1, 0.35, tongue=0.0, rhotic=1.0)],
    "EY": [_t(0.45, 0.30, tongue=0.6), _t(0.20, 0.55, tongue=0.9)],
    "IH": [_t(0.30, 0.45, tongue=0.75)],
    "IY": [_t(0.15, 0.75, tongue=1.0)],
    "OW": [_t(0.55, -0.1, 0.5, tongue=-0.6), _t(0.30, -0.3, 0.8, tongue=-0.4)],
    "OY": [_t(0.65, -0.2, 0.6, tongue=-0.8), _t(0.25, 0.5, tongue=0.9)],
    "UH": [_t(0.30, -0.2, 0.5, tongue=-0.3)],
    "UW": [_t(0.18, -0.4, 0.9, tongue=-0.2)],
}

#: Consonant targets and their dominance (alpha) per parameter; parameters
#: not listed get a weak dominance so that the vowels show through.
CONSONANTS = {
    # bilabials: lips closed
    "P": (_t(0.08, closure=1.0), dict(closure=12.0, jaw=1.0)),
    "B": (_t(0.08, closure=1.0), dict(closure=12.0, jaw=1.0)),
    "M": (_t(0.08, closure=1.0), dict(closure=12.0, jaw=1.0)),
    # labiodentals: lower lip to the upper teeth
    "F": (_t(0.10, closure=0.75), dict(closure=6.0, jaw=1.0)),
    "V": (_t(0.10, closure=0.75), dict(closure=6.0, jaw=1.0)),
    # rounded / protruded consonants
    "W": (_t(0.15, -0.4, 0.95, closure=0.3, tongue=-0.4), dict(round=4.0, spread=3.0, closure=2.0, jaw=0.8, tongue=0.5)),
    "SH": (_t(0.15, -0.1, 0.55, tongue=0.3), dict(round=2.0, jaw=1.5, tongue=1.0)),
    "ZH": (_t(0.15, -0.1, 0.55, tongue=0.3), dict(round=2.0, jaw=1.5, tongue=1.0)),
    "CH": (_t(0.15, -0.1, 0.50, tongue=0.4), dict(round=1.5, jaw=1.5, tongue=1.0)),
    "JH": (_t(0.15, -0.1, 0.50, tongue=0.4), dict(round=1.5, jaw=1.5, tongue=1.0)),
    "R": (_t(0.20, -0.1, 0.40, tongue=0.0, rhotic=1.0), dict(round=1.5, rhotic=3.0, jaw=0.6)),
    "Y": (_t(0.12, 0.50, tongue=1.0), dict(spread=1.0, tongue=2.0, jaw=0.6)),
    # tongue consonants: lips free
    "T": (_t(0.15, tongue=0.6), dict(jaw=0.7, tongue=1.0)),
    "D": (_t(0.15, tongue=0.6), dict(jaw=0.7, tongue=1.0)),
    "N": (_t(0.15, tongue=0.6), dict(jaw=0.6, tongue=1.0)),
    "S": (_t(0.10, 0.1, tongue=0.6), dict(jaw=1.5, tongue=1.0)),
    "Z": (_t(0.10, 0.1, tongue=0.6), dict(jaw=1.5, tongue=1.0)),
    "TH": (_t(0.15, tongue=0.7), dict(jaw=0.7, tongue=1.0)),
    "DH": (_t(0.15, tongue=0.7), dict(jaw=0.6, tongue=1.0)),
    "L": (_t(0.20, tongue=0.3), dict(jaw=0.5, tongue=1.0)),
    "K": (_t(0.25, tongue=-0.5), dict(jaw=0.5, tongue=1.0)),
    "G": (_t(0.25, tongue=-0.5), dict(jaw=0.5, tongue=1.0)),
    "NG": (_t(0.25, tongue=-0.5), dict(jaw=0.5, tongue=1.0)),
    "HH": (_t(0.30), dict()),
}
_WEAK = dict(jaw=0.05, spread=0.04, round=0.04, closure=0.3, tongue=0.05, rhotic=0.3)

#: Sound classes used by the synthesiser.
STOPS = frozenset("P B T D K G".split())
AFFRICATES = frozenset("CH JH".split())
FRICATIVES = frozenset("F V TH DH S Z SH ZH HH".split())
NASALS = frozenset("M N NG".split())
VOICELESS = frozenset("P T K F TH S SH HH CH".split())


def phone_targets(phone):
    """Targets and dominance of one phone.

    Parameters
    ----------
    phone : str
        ARPAbet with or without stress (``AH0`` is the schwa target).

    Returns
    -------
    list of (float, dict, dict)
        ``(position within the phone 0..1, target per parameter, alpha per parameter)``.

    Examples
    --------
    >>> pos, target, alpha = phone_targets("IY1")[0]
    >>> target["spread"] > 0.5 and target["jaw"] < 0.2
    True
    """
    base = strip_stress(phone)
    if is_vowel(phone):
        key = "AH0" if str(phone).upper() == "AH0" else base
        targets = VOWEL_TARGETS[key]
        positions = [0.5] if len(targets) == 1 else [0.3, 0.75]
        alpha = dict(jaw=1.0, spread=1.0, round=1.0, closure=1.0, tongue=1.0, rhotic=1.0)
        return [(p, t, alpha) for p, t in zip(positions, targets)]
    target, strong = CONSONANTS[base]
    alpha = {**_WEAK, **strong}
    return [(0.5, target, alpha)]


#: Mean durations in seconds (before rate scaling).
_DUR = dict(vowel=0.105, reduced=0.060, diphthong=0.150, stop=0.070, fricative=0.090,
            nasal=0.065, approximant=0.060, hh=0.055)


def phone_duration(phone):
    """Mean duration of a phone in seconds at speaking rate 1.

    Examples
    --------
    >>> phone_duration("AY1") > phone_duration("AH0")
    True
    """
    base = strip_stress(phone)
    if is_vowel(phone):
        if phone.endswith("0"):
            return _DUR["reduced"]
        return _DUR["diphthong"] if base in ("AW", "AY", "EY", "OW", "OY") else _DUR["vowel"]
    if base in STOPS or base in AFFRICATES:
        return _DUR["stop"]
    if base == "HH":
        return _DUR["hh"]
    if base in FRICATIVES:
        return _DUR["fricative"]
    if base in NASALS:
        return _DUR["nasal"]
    return _DUR["approximant"]


def plan_utterance(words, rng, rate=1.0, lead=0.25, trail=0.25, jitter=0.18):
    """Time the words and phones of an utterance.

    Parameters
    ----------
    words : list of (str, list of str)
        Words and their ARPAbet phones (from :func:`~agser.corpora.simulator.text.pronounce`).
    rng : numpy.random.Generator
    rate : float
        Speaking rate (> 1 faster); durations are divided by it.
    lead, trail : float, seconds
        Silence before the first and after the last phone.
    jitter : float
        Standard deviation of the log-duration of each phone.

    Returns
    -------
    words_df, phones_df : pandas.DataFrame
        Columns ``label, start, end`` (seconds); ``phones_df`` also has ``word``
        (index into ``words_df``).
    duration : float, seconds

    Examples
    --------
    >>> import numpy as np
    >>> w, p, d = plan_utterance([("hi", ["HH", "AY1"])], np.random.default_rng(0))
    >>> list(p["label"]), bool(d > p["end"].max())
    (['HH', 'AY1'], True)
    """
    rows, wrows, t = [], [], float(lead)
    n_words = len(words)
    for wi, (word, phones) in enumerate(words):
        w_start = t
        final = 1.35 if wi == n_words - 1 else 1.0  # phrase-final lengthening
        for ph in phones:
            d = phone_duration(ph) * final / rate * float(np.exp(rng.normal(0.0, jitter)))
            d = max(d, 0.03)
            rows.append((ph, t, t + d, wi))
            t += d
        wrows.append((word, w_start, t))
    duration = t + float(trail)
    words_df = pd.DataFrame(wrows, columns=["label", "start", "end"])
    phones_df = pd.DataFrame(rows, columns=["label", "start", "end", "word"])
    return words_df, phones_df, duration


def trajectories(phones_df, times, duration, style=None):
    """Articulatory parameters over time by dominance-weighted coarticulation.

    Parameters
    ----------
    phones_df : pandas.DataFrame
        Columns ``label, start, end`` (seconds), from :func:`plan_utterance`.
    times : numpy.ndarray, shape (n,), seconds
        Where to evaluate the trajectories.
    duration : float, seconds
        Utterance length; the mouth rests before the first and after the last phone.
    style : dict, optional
        Speaker and emotion articulation: ``excursion`` (gain on jaw and
        rounding movements away from rest, 1 = as the targets), ``spread_bias``
        (added to spreading: a smile), ``jaw_gain``, ``round_gain`` (speaker habits).

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n,)
        One array per name in :data:`PARAMS`.

    Examples
    --------
    >>> import numpy as np
    >>> _, p, d = plan_utterance([("see", ["S", "IY1"])], np.random.default_rng(0))
    >>> tr = trajectories(p, np.linspace(0, d, 50), d)
    >>> bool(tr["spread"].max() > 0.5)
    True
    """
    style = {**dict(excursion=1.0, spread_bias=0.0, jaw_gain=1.0, round_gain=1.0), **(style or {})}
    times = np.asarray(times, dtype=float)
    centers, plateaus, alphas, targets = [], [], [], []
    # rest targets before and after speech, strongly dominant in silence
    first, last = float(phones_df["start"].min()), float(phones_df["end"].max())
    rest_alpha = dict.fromkeys(PARAMS, 2.0)
    for c, p in ((first / 2.0, first / 2.0), ((last + duration) / 2.0, (duration - last) / 2.0)):
        centers.append(c)
        plateaus.append(max(p - 0.06, 0.0))
        alphas.append(rest_alpha)
        targets.append(REST)
    for label, start, end in phones_df[["label", "start", "end"]].itertuples(index=False):
        d = end - start
        subs = phone_targets(label)
        for pos, target, alpha in subs:
            centers.append(start + pos * d)
            plateaus.append(0.25 * d / len(subs))
            alphas.append(alpha)
            targets.append(target)
    centers = np.asarray(centers)
    plateaus = np.asarray(plateaus)
    # distance to each target's plateau, (n_times, n_targets)
    dist = np.maximum(np.abs(times[:, None] - centers[None, :]) - plateaus[None, :], 0.0)
    out = {}
    theta = 28.0  # 1/s: a target's influence halves about 25 ms past its plateau
    decay = np.exp(-theta * dist)
    for name in PARAMS:
        a = np.array([al[name] for al in alphas])
        tv = np.array([tg[name] for tg in targets], dtype=float)
        if name == "jaw":
            tv = REST["jaw"] + (tv - REST["jaw"]) * style["excursion"] * style["jaw_gain"]
        elif name == "round":
            tv = tv * (0.5 + 0.5 * style["excursion"]) * style["round_gain"]
        elif name == "spread":
            tv = tv * (0.6 + 0.4 * style["excursion"]) + style["spread_bias"]
        w = decay * a[None, :]
        out[name] = (w @ tv) / np.maximum(w.sum(axis=1), 1e-12)
    out["jaw"] = np.clip(out["jaw"], 0.0, 1.2)
    out["round"] = np.clip(out["round"], 0.0, 1.2)
    out["spread"] = np.clip(out["spread"], -1.0, 1.2)
    out["closure"] = np.clip(out["closure"], 0.0, 1.0)
    return out
