"""Cutting mouth trajectories at phone boundaries (agser.gestures.segment)."""

import numpy as np
import pandas as pd
import pytest

from agser.errors import InputError, ParameterError
from agser.gestures.segment import cut_segments


def _phones(rows):
    return pd.DataFrame(rows, columns=["label", "start", "end"])


def _mouth(n):
    # frame index encoded in the points, so a segment's frames can be checked
    return np.arange(n, dtype=np.float32)[:, None, None] * np.ones((1, 12, 2), np.float32)


def test_frames_inside_phone_interval():
    ts = np.arange(30) / 30.0
    segs = cut_segments(_mouth(30), ts, _phones([("AA1", 0.10, 0.30), ("T", 0.30, 0.40)]))
    # [0.1, 0.3): frames 3..8 (t = 0.1 exactly is frame 3; 0.3 belongs to the next phone)
    assert [s["frame_start"] for s in segs] == [3, 9]
    assert [s["frame_end"] for s in segs] == [9, 12]
    assert segs[0]["frames"][:, 0, 0].tolist() == [3, 4, 5, 6, 7, 8]
    assert segs[0]["frames"].dtype == np.float32 and segs[0]["frames"].shape == (6, 12, 2)


def test_stress_stripped_ipa_keeps_stress():
    segs = cut_segments(_mouth(25), None, _phones([("AH0", 0.0, 0.2), ("AH1", 0.2, 0.4),
                                                  ("ER0", 0.4, 0.6), ("IY1", 0.6, 0.9)]),
                        frame_rate=25)
    assert [s["phone"] for s in segs] == ["AH", "AH", "ER", "IY"]
    assert [s["ipa"] for s in segs] == ["ə", "ʌ", "ɚ", "i"]


def test_silences_are_not_segments():
    segs = cut_segments(_mouth(25), None, _phones([("sil", 0, 0.2), ("", 0.2, 0.3), ("sp", 0.3, 0.4),
                                                  ("SIL", 0.4, 0.5), ("B", 0.5, 0.6)]), frame_rate=25)
    assert [s["phone"] for s in segs] == ["B"]


def test_short_phone_takes_nearest_frame():
    # 25 fps: frames at 0, 0.04, 0.08...; a 10-ms phone at [0.045, 0.055) holds no timestamp
    segs = cut_segments(_mouth(10), None, _phones([("P", 0.045, 0.055)]), frame_rate=25)
    assert len(segs) == 1 and segs[0]["n_frames"] == 1 and segs[0]["frame_start"] == 1


def test_phone_outside_video_dropped_with_reason():
    segs, dropped = cut_segments(_mouth(10), None, _phones([("AA1", 0.1, 0.2), ("T", 2.0, 2.02)]),
                                 frame_rate=25, return_dropped=True)
    assert [s["phone"] for s in segs] == ["AA"]
    assert dropped[0]["phone"] == "T" and "outside" in dropped[0]["reason"]


def test_nan_frames_drop_segment():
    mouth = _mouth(20)
    mouth[5:9] = np.nan
    segs, dropped = cut_segments(mouth, None, _phones([("AA1", 0.0, 0.16), ("IY1", 0.16, 0.4),
                                                       ("M", 0.4, 0.6)]),
                                 frame_rate=25, return_dropped=True)
    assert [s["phone"] for s in segs] == ["AA", "M"]
    assert dropped[0]["phone"] == "IY" and "no face" in dropped[0]["reason"]
    # the reason is span_usable's: it names the frames and quotes the gap limit used
    _, dropped = cut_segments(mouth, None, _phones([("IY1", 0.16, 0.4)]), frame_rate=25,
                              return_dropped=True, max_gap=2)
    assert dropped[0]["reason"] == (
        "frames 5-8 of segment frames 4-9 have no face (gap 5-8 longer than 2 frames or at a video edge)"
    )


def test_errors():
    with pytest.raises(ParameterError, match="shape"):
        cut_segments(np.zeros((5, 68, 2)), None, _phones([]), frame_rate=25)
    with pytest.raises(ParameterError, match="frame_rate"):
        cut_segments(_mouth(5), None, _phones([]))
    with pytest.raises(ParameterError, match="timestamps"):
        cut_segments(_mouth(5), np.arange(4) / 25, _phones([]))
    with pytest.raises(InputError, match="XX"):
        cut_segments(_mouth(5), None, _phones([("XX", 0, 0.1)]), frame_rate=25)
    # IPA phones are read_textgrid's to map; the message says so
    with pytest.raises(InputError, match="'ɑ' is not ARPAbet .*read_textgrid, which maps them"):
        cut_segments(_mouth(5), None, _phones([("ɑ", 0, 0.1)]), frame_rate=25)
