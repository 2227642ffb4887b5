"""Speaker-free mouth gestures: each speaker's own mouth geometry removed (beyond the paper).

Eye alignment and inter-pupil scaling, as the paper does them, leave in every
gesture the speaker's own mouth position (below the eyes), width and opening;
clustered as they are, gestures group by speaker more than by articulation
(chapter 3 measures it). The speaker-free option subtracts from every frame
the speaker's mean mouth shape over all their frames (every segment, every
phone and emotion: speaker ids only, no label), so that what is left is how
the mouth moves away from that speaker's own average shape.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["GESTURE_OPTIONS", "speaker_free", "gesture_frames"]

#: ``cluster.gestures``: the paper's preprocessing, or this module's.
GESTURE_OPTIONS = ("paper", "speaker-free")


def speaker_free(frames, speakers):
    """Subtract each speaker's mean frame from all their frames.

    Parameters
    ----------
    frames : sequence of array, each (n_frames_i, 12, 2)
        Eye-aligned, IPD-normalised mouth points of each segment (NaN rows
        for frames without a face are left NaN and not averaged).
    speakers : array of str, (n_segments,)

    Returns
    -------
    list of numpy.ndarray, float32, each (n_frames_i, 12, 2)

    Examples
    --------
    >>> f = [np.full((2, 12, 2), 1.0), np.full((1, 12, 2), 3.0), np.full((1, 12, 2), 5.0)]
    >>> [round(float(x[0, 0, 0]), 3) for x in speaker_free(f, ["a", "a", "b"])]  # a's mean: (1 + 1 + 3) / 3
    [-0.667, 1.333, 0.0]
    """
    from agser.normalize import SpeakerNormalizer

    speakers = np.asarray(speakers, dtype=str)
    if len(speakers) != len(frames):
        raise ParameterError(f"{len(speakers)} speakers for {len(frames)} segments")
    flat = [np.asarray(f, dtype=np.float64).reshape(len(f), -1) for f in frames]
    finite = [x[np.isfinite(x).all(1)] for x in flat]
    norm = SpeakerNormalizer(with_std=False).fit(finite, groups=speakers)
    out = []
    for x, f, spk in zip(flat, frames, speakers):
        shift = norm.shift_scale(spk)[0] if spk in norm.mean_ else np.zeros(x.shape[1])
        out.append((x - shift).reshape(np.shape(f)).astype(np.float32))
    return out


def gesture_frames(frames, speakers, option="speaker-free"):
    """The gestures a run clusters: as the paper preprocesses them, or speaker-free.

    Examples
    --------
    >>> f = [np.ones((1, 12, 2))]
    >>> float(gesture_frames(f, ["a"], "paper")[0].sum()), float(gesture_frames(f, ["a"])[0].sum())
    (24.0, 0.0)
    """
    if option not in GESTURE_OPTIONS:
        raise ParameterError(f"cluster.gestures={option!r} must be one of {', '.join(GESTURE_OPTIONS)}")
    if option == "paper":
        return list(frames)
    return speaker_free(frames, speakers)
