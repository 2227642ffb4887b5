"""Simulated speakers: voice, vocal tract, face and articulation habits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Speaker", "make_speakers"]


@dataclass
class Speaker:
    """One simulated speaker.

    Parameters
    ----------
    speaker_id : str
        Unique across corpora (``"C03"``: corpus code + number).
    sex : str
        ``"f"`` or ``"m"``.
    f0 : float, Hz
        Mean fundamental frequency in neutral speech.
    f0_range : float, semitones
        Size of the intonation accents in neutral speech.
    vtl : float, cm
        Vocal-tract length; formants scale with ``17 / vtl``.
    rate : float
        Habitual speaking rate (1 = average).
    jaw_gain, round_gain : float
        Articulation habits: how far this speaker opens the jaw and rounds.
    spread_bias : float
        Habitual lip spreading (added to the spreading parameter).
    ipd : float, pixels
        Inter-pupil distance in the video (face size).
    mouth_width : float, IPD units
        Half-width of the mouth at rest.
    mouth_y : float, IPD units
        Distance from the eye line to the mouth.
    lip_upper, lip_lower : float, IPD units
        Visible lip thickness.
    open_gain : float, IPD units
        Lip opening at full jaw opening.
    breathiness : float
        Habitual aspiration noise (0 = modal voice).
    expressiveness : float
        How strongly this speaker shows emotion overall (1 = average).
    profile : dict
        Per-emotion, per-cue multipliers (how this speaker shows each emotion).
    """

    speaker_id: str
    sex: str
    f0: float
    f0_range: float
    vtl: float
    rate: float
    jaw_gain: float
    round_gain: float
    spread_bias: float
    ipd: float
    mouth_width: float
    mouth_y: float
    lip_upper: float
    lip_lower: float
    open_gain: float
    breathiness: float
    expressiveness: float
    profile: dict = field(default_factory=dict)


def make_speakers(code, n, rng, ipd_px=55.0, profile_spread=0.4, cues=()):
    """Draw ``n`` speakers of one corpus.

    Parameters
    ----------
    code : str
        Corpus code, the prefix of the speaker ids (``"C"`` -> ``C01 ..``).
    n : int
        Number of speakers (alternating female / male).
    rng : numpy.random.Generator
    ipd_px : float, pixels
        Mean inter-pupil distance in this corpus's video.
    profile_spread : float
        Standard deviation of each speaker's per-emotion cue multipliers
        (0: every speaker shows every emotion the same way).
    cues : sequence of str
        Names of the emotion cues (see :mod:`~agser.corpora.simulator.emotion`).

    Returns
    -------
    list of Speaker

    Examples
    --------
    >>> import numpy as np
    >>> sp = make_speakers("C", 4, np.random.default_rng(0))
    >>> [s.speaker_id for s in sp], [s.sex for s in sp]
    (['C01', 'C02', 'C03', 'C04'], ['f', 'm', 'f', 'm'])
    """
    from agser.corpora.simulator.emotion import CUES, EFFECTS

    cues = tuple(cues) or CUES
    out = []
    for i in range(n):
        sex = "f" if i % 2 == 0 else "m"
        female = sex == "f"
        profile = {
            emo: {c: float(max(0.0, rng.normal(1.0, profile_spread))) for c in cues}
            for emo in EFFECTS
        }
        out.append(
            Speaker(
                speaker_id=f"{code}{i + 1:02d}",
                sex=sex,
                f0=float(rng.normal(205.0, 22.0) if female else rng.normal(112.0, 13.0)),
                f0_range=float(np.clip(rng.normal(2.5, 0.6), 1.0, 4.5)),
                vtl=float(rng.normal(14.8, 0.6) if female else rng.normal(17.2, 0.7)),
                rate=float(np.exp(rng.normal(0.0, 0.10))),
                jaw_gain=float(np.exp(rng.normal(0.0, 0.15))),
                round_gain=float(np.exp(rng.normal(0.0, 0.15))),
                spread_bias=float(rng.normal(0.0, 0.08)),
                ipd=float(ipd_px * np.exp(rng.normal(0.0, 0.08))),
                mouth_width=float(rng.normal(0.42, 0.03)),
                mouth_y=float(rng.normal(1.02, 0.05)),
                lip_upper=float(np.clip(rng.normal(0.085, 0.012), 0.04, 0.14)),
                lip_lower=float(np.clip(rng.normal(0.105, 0.015), 0.05, 0.16)),
                open_gain=float(np.clip(rng.normal(0.36, 0.04), 0.22, 0.5)),
                breathiness=float(np.clip(rng.normal(0.15 if female else 0.08, 0.05), 0.0, 0.4)),
                expressiveness=float(np.exp(rng.normal(0.0, 0.2))),
                profile=profile,
            )
        )
    return out
