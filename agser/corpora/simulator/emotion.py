"""How an emotion changes articulation and voice.

An emotion moves eight cues away from neutral speech. The size of each move
for one utterance is the product of the emotion's direction (:data:`EFFECTS`,
at intensity 1), the corpus's emotion intensity, the speaker's overall
expressiveness, the speaker's own multiplier for that emotion and cue (so
speakers show the same emotion differently), and a per-utterance intensity
drawn around 1. Emotion-independent per-utterance variation
(:data:`NUISANCE`) is added on top, so that no single cue separates the
emotions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CUES", "EFFECTS", "SPONTANEOUS_EFFECTS", "NUISANCE", "emotion_cues"]

#: Cue names: articulation (excursion, smile, rate), voice (F0 level in
#: semitones, F0 range as a relative change, level in dB, vocal tension,
#: breathiness).
CUES = ("excursion", "smile", "rate", "f0_st", "f0_range", "level_db", "tension", "breath")

#: Direction of each emotion at intensity 1.
EFFECTS = {
    "neutral": dict(excursion=0.0, smile=0.0, rate=0.0, f0_st=0.0, f0_range=0.0,
                    level_db=0.0, tension=0.0, breath=0.0),
    "anger": dict(excursion=0.30, smile=0.0, rate=0.08, f0_st=3.0, f0_range=0.5,
                  level_db=6.0, tension=0.8, breath=-0.1),
    "happiness": dict(excursion=0.15, smile=0.30, rate=0.05, f0_st=3.5, f0_range=0.6,
                      level_db=3.0, tension=0.2, breath=0.0),
    "sadness": dict(excursion=-0.25, smile=-0.05, rate=-0.15, f0_st=-1.5, f0_range=-0.4,
                    level_db=-4.0, tension=-0.3, breath=0.5),
}

#: How emotions show in spontaneous, improvised speech: less pitch and
#: loudness, more smile in happiness and more tension in anger. A corpus mixes
#: :data:`EFFECTS` and this table by its ``expression_mix`` (0: acted style).
SPONTANEOUS_EFFECTS = {
    "neutral": dict(EFFECTS["neutral"]),
    "anger": dict(excursion=0.20, smile=-0.05, rate=0.0, f0_st=1.5, f0_range=0.2,
                  level_db=3.5, tension=1.1, breath=-0.1),
    "happiness": dict(excursion=0.20, smile=0.45, rate=0.10, f0_st=1.5, f0_range=0.3,
                      level_db=1.5, tension=0.0, breath=0.1),
    "sadness": dict(excursion=-0.30, smile=-0.10, rate=-0.08, f0_st=-0.5, f0_range=-0.5,
                    level_db=-2.0, tension=-0.4, breath=0.4),
}

#: Standard deviation of the emotion-independent per-utterance variation of each cue.
NUISANCE = dict(excursion=0.08, smile=0.05, rate=0.06, f0_st=1.2, f0_range=0.2,
                level_db=2.4, tension=0.2, breath=0.12)


def emotion_cues(emotion, speaker, rng, intensity=1.0, utterance_spread=0.45, nuisance=1.0,
                 expression_mix=0.0):
    """Cue values of one utterance.

    Parameters
    ----------
    emotion : str
        One of :data:`EFFECTS`.
    speaker : Speaker
        Supplies ``expressiveness`` and the per-emotion ``profile``.
    rng : numpy.random.Generator
    intensity : float
        The corpus's emotion intensity (1 = acted, as CREMA-D; lower = subtler).
    utterance_spread : float
        Standard deviation of the log of the per-utterance intensity.
    nuisance : float
        Scale of the emotion-independent variation (:data:`NUISANCE`).
    expression_mix : float in [0, 1]
        Share of :data:`SPONTANEOUS_EFFECTS` in the emotion's direction.

    Returns
    -------
    dict of str -> float
        One value per name in :data:`CUES` (0 = neutral speech of this speaker).

    Examples
    --------
    >>> import numpy as np
    >>> from agser.corpora.simulator.speakers import make_speakers
    >>> sp = make_speakers("C", 1, np.random.default_rng(0))[0]
    >>> c = emotion_cues("anger", sp, np.random.default_rng(1), nuisance=0.0)
    >>> c["level_db"] > 0 and c["f0_st"] > 0
    True
    """
    u = float(np.exp(rng.normal(0.0, utterance_spread)))
    scale = float(intensity) * speaker.expressiveness * u
    prof = speaker.profile.get(emotion, {})
    out = {}
    for cue in CUES:
        direction = ((1.0 - expression_mix) * EFFECTS[emotion][cue]
                     + expression_mix * SPONTANEOUS_EFFECTS[emotion][cue])
        base = direction * scale * prof.get(cue, 1.0)
        out[cue] = float(base + rng.normal(0.0, NUISANCE[cue] * nuisance))
    return out
