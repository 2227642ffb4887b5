"""Chapter 1's measures (agser.analysis.landmarks): faces found, gaps, failures and what the page says."""

import numpy as np
import pandas as pd
import pytest

from agser.analysis.landmarks import (FILLED, LEFT, coverage_statement, example_utterances, failure_summary,
                                      landmark_quality, reason_kinds, source_statement)
from agser.errors import ParameterError
from agser.landmarks.types import Landmarks


def _lm(success, confidence=0.9, fps=25):
    success = np.asarray(success, bool)
    n = len(success)
    pts = np.zeros((n, 68, 2))
    return Landmarks(pts, np.where(success, confidence, 0.0), success, np.arange(n) / fps)


def test_gaps_inside_and_short_are_filled_others_left():
    # gaps: frame 0 (at an edge), frames 3-4 (inside, 2 frames), frames 7-11 (inside, 5 > 3 frames)
    ok = np.ones(15, bool)
    ok[[0, 3, 4, 7, 8, 9, 10, 11]] = False
    manifest = pd.DataFrame({"utterance_id": ["u", "v", "w"], "corpus": ["A", "A", "B"]})
    q = landmark_quality(manifest, {"u": _lm(ok), "v": _lm(np.ones(5, bool), 0.5)}, max_gap=3)
    a = q.loc["A"]
    assert a["utterances"] == 2 and a["with landmarks"] == 2 and a["frames"] == 20
    assert a["frames with face"] == 12 and a["face %"] == 60.0
    assert (a["gaps"], a[FILLED], a[LEFT], a["longest gap (frames)"]) == (3, 1, 2, 5)
    assert a["median confidence (face frames)"] == 0.9
    assert a["frame rate (Hz)"] == 25.0
    b = q.loc["B"]  # a corpus whose utterance has no landmarks at all
    assert b["with landmarks"] == 0 and np.isnan(b["face %"])


def test_manifest_frame_rate_wins_and_unknown_landmarks_are_refused():
    manifest = pd.DataFrame({"utterance_id": ["u"], "corpus": ["A"], "frame_rate": ["29.97"]})
    assert landmark_quality(manifest, {"u": _lm(np.ones(4, bool))}).loc["A", "frame rate (Hz)"] == 29.97
    with pytest.raises(ParameterError, match=r"\['x'\] not in the manifest"):
        landmark_quality(manifest, {"x": _lm(np.ones(4, bool))})


def test_example_utterances_skip_faceless_ones():
    manifest = pd.DataFrame({"utterance_id": ["a", "b", "c"], "corpus": ["X", "X", "Y"]})
    lms = {"a": _lm(np.zeros(3, bool)), "b": _lm(np.ones(3, bool)), "c": _lm(np.ones(3, bool))}
    assert example_utterances(manifest, lms) == ["b", "c"]


def test_failures_grouped_by_kind_of_reason():
    f = pd.DataFrame({"utterance_id": ["a", "b", "c", "d", "e"],
                      "stage": ["landmarks"] * 4 + ["audio"],
                      "reason": ["x.avi: no face found in any of its 15 frames", "y.avi: no face found in any of its 9 frames",
                                 "z.avi: no face found in any of its 3 frames", "w.avi: no face found in any of its 1 frames",
                                 "audio 'q' does not exist"]})
    f["reason"] = f["reason"].str.replace(r"^\w\.avi: ", "", regex=True)
    table = failure_summary(f, examples=3)
    assert table.loc[0].tolist() == ["landmarks", "no face found in any of its n frames", 4, "a, b, c ..."]
    assert table.loc[1, "stage"] == "audio" and len(table) == 2
    assert failure_summary(f.iloc[:0]).empty
    assert reason_kinds(pd.Series(["gap 1.5 s of 12"])).tolist() == ["gap n s of n"]


def test_statements_name_the_source_and_the_target():
    m = pd.DataFrame({"utterance_id": ["a"], "corpus": ["crema-d"]})
    assert "landmarks from **videos** (dlib detector and tracker)" in source_statement("samples", m, True)
    q = pd.DataFrame({"frames": [100, 100], "frames with face": [99, 90]}, index=["A", "B"])
    assert "is **met** on this run (94.5 %)" not in coverage_statement(q, True)
    assert "is **not met** on this run (94.5 %)" in coverage_statement(q, True)
    assert "is **met** on this run (99.0 %)" in coverage_statement(q.iloc[:1], True)
    assert coverage_statement(q, False).startswith("These landmarks are the simulator's")
