"""Chapter 1's figures: the 68 landmarks drawn on faces, the mouth over time, confidence over time."""

from __future__ import annotations

import numpy as np

__all__ = ["CONTOURS", "draw_face", "video_frames", "plot_faces", "plot_mouth_pixels", "plot_confidence"]

#: The iBUG-68 contours: jaw, brows, nose bridge and base, eyes, outer and inner lips.
CONTOURS = [range(0, 17), range(17, 22), range(22, 27), range(27, 31), range(31, 36),
            list(range(36, 42)) + [36], list(range(42, 48)) + [42],
            list(range(48, 60)) + [48], list(range(60, 68)) + [60]]


def draw_face(ax, pts, colour="0.6"):
    """The 68 points joined along the iBUG contours; the 12 outer-lip points red (48 a square, 57 a star)."""
    for c in CONTOURS:
        c = list(c)
        ax.plot(pts[c, 0], pts[c, 1], "-", color=colour, lw=0.8)
    ax.plot(pts[:48, 0], pts[:48, 1], ".", color="tab:cyan", ms=3)
    ax.plot(pts[48:60, 0], pts[48:60, 1], "o", color="tab:red", ms=3)
    ax.plot(*pts[48], "s", color="tab:red", ms=5)
    ax.plot(*pts[57], "*", color="yellow", mec="tab:red", ms=9)


def video_frames(path, indices):
    """The frames ``indices`` of a video as RGB arrays: ``{index: (height, width, 3) uint8}``."""
    from agser.landmarks import decode_video

    want = {int(i) for i in indices}
    out = {}
    for i, _, frame in decode_video(path, max_frames=max(want) + 1):
        if i in want:
            out[i] = frame[:, :, ::-1]
    return out


def plot_faces(landmarks, utterance_ids, videos=None, n_frames=3):
    """Three frames (first, middle, last with a face) of each utterance, cropped to the face.

    Parameters
    ----------
    landmarks : dict
        ``utterance_id -> agser.landmarks.types.Landmarks`` (pixels).
    utterance_ids : sequence of str
        One row of panels each.
    videos : dict, optional
        ``utterance_id -> video file`` whose frames the points are drawn on
        (None, or an utterance not in it: a blank canvas in the video's pixel
        coordinates).
    n_frames : int
        Panels per utterance.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    fig, axes = plt.subplots(len(utterance_ids), n_frames, figsize=(PAGE_WIDTH, 2.9 * len(utterance_ids)),
                             squeeze=False)
    for axrow, uid in zip(axes, utterance_ids):
        lm = landmarks[uid]
        good = np.flatnonzero(lm.success)
        picks = good[np.linspace(0, len(good) - 1, n_frames).round().astype(int)]
        images = video_frames(videos[uid], picks) if videos and videos.get(uid) else {}
        # the face's extent over the utterance, with a margin: the same view in every frame
        lo, hi = np.nanmin(lm.points[good], axis=(0, 1)), np.nanmax(lm.points[good], axis=(0, 1))
        pad = 0.25 * (hi - lo)
        for ax, i in zip(axrow, picks):
            if i in images:
                ax.imshow(images[i])
            else:
                ax.set_facecolor("0.97")
            draw_face(ax, lm.points[i])
            ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
            ax.set_ylim(hi[1] + pad[1], lo[1] - pad[1])
            ax.set_aspect("equal")
            ax.set_title(f"frame {i}, {lm.timestamps[i]:.2f} s\nconfidence {lm.confidence[i]:.2f}", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        axrow[0].set_ylabel(uid, fontsize=10)
    return fig


def plot_mouth_pixels(landmarks, utterance_ids):
    """Lip opening (57 minus 51, vertical) and mouth width (54 minus 48, horizontal) in pixels over time.

    Returns
    -------
    matplotlib Figure
        One panel per utterance, the legend under them.
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    n = len(utterance_ids)
    fig, axes = plt.subplots(1, n, figsize=(PAGE_WIDTH, 2.9), squeeze=False)
    for ax, uid in zip(axes[0], utterance_ids):
        lm = landmarks[uid]
        ax.plot(lm.timestamps, lm.points[:, 57, 1] - lm.points[:, 51, 1], color="tab:red",
                label="lip opening, 57 - 51 (y)")
        ax.plot(lm.timestamps, lm.points[:, 54, 0] - lm.points[:, 48, 0], color="tab:blue",
                label="mouth width, 54 - 48 (x)")
        ax.set_title(uid, fontsize=10)
        ax.set_xlabel("time (s)")
    axes[0][0].set_ylabel("pixels")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    return fig


def plot_confidence(landmarks, corpus_of, per_corpus=8, threshold=0.5):
    """Confidence over time of up to ``per_corpus`` utterances per corpus; frames without a face as crosses.

    Parameters
    ----------
    landmarks : dict
        ``utterance_id -> Landmarks``.
    corpus_of : dict
        ``utterance_id -> corpus``.
    per_corpus : int
    threshold : float
        The detector's threshold on the confidence scale (dotted line).

    Returns
    -------
    matplotlib Figure
        One panel per corpus (lines are utterances; no legend: the
        utterances are many and alike).
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    corpora = sorted(set(corpus_of[u] for u in landmarks))
    fig, axes = plt.subplots(len(corpora), 1, figsize=(PAGE_WIDTH, 2.2 * len(corpora) + 0.4), squeeze=False,
                             sharex=True)
    for ax, corpus in zip(axes[:, 0], corpora):
        ids = [u for u in landmarks if corpus_of[u] == corpus][:per_corpus]
        for k, uid in enumerate(ids):
            lm = landmarks[uid]
            line, = ax.plot(lm.timestamps, lm.confidence, lw=1)
            bad = ~lm.success
            ax.plot(lm.timestamps[bad], np.full(bad.sum(), -0.05 - 0.02 * k), "x", color=line.get_color(), ms=5)
        ax.axhline(threshold, ls=":", color="k", lw=0.8)
        ax.set_ylim(-0.25, 1.05)
        ax.set_ylabel("confidence")
        ax.set_title(f"{corpus}: {len(ids)} utterances", fontsize=11)
    axes[-1, 0].set_xlabel("time (s)")
    return fig
