"""Chapter 2's tables (agser.analysis.segmentation) and the chapter itself on a tiny simulated run."""

import json

import numpy as np
import pandas as pd
import pytest

from agser.analysis.segmentation import (aligner_statements, angle_range, boundary_table, evaluation_counts,
                                         extraction_summary, extraction_totals, vowel_segment_table,
                                         word_boundary_evaluation)
from agser.errors import ParameterError

SUMMARY = {"A": {"utterances": 4, "frames": 100, "frames_with_face": 95, "segments": 3, "failures": 1,
                 "segments_dropped": 2},
           "B": {"utterances": 2, "frames": 50, "frames_with_face": 50, "segments": 2, "failures": 0,
                 "segments_dropped": 0}}


def test_vowel_table_keeps_the_paper_vowels_in_their_order():
    s = pd.DataFrame({"corpus": ["A", "A", "A", "B"], "emotion": ["anger", "anger", "sadness", "anger"],
                      "ipa": ["u", "ɑ", "k", "ɑ"], "start": [0.0, 0.1, 0.2, 0.3]})
    t = vowel_segment_table(s)
    assert list(t.columns) == ["ɑ", "u"]  # the paper's order; /k/ is no vowel
    assert t.loc[("A", "anger")].tolist() == [1, 1] and t.loc[("B", "anger")].tolist() == [1, 0]


def test_extraction_summary_and_totals():
    seg = pd.DataFrame({"corpus": ["A", "A", "A", "B", "B"], "n_frames": [1, 2, 6, 3, 3]})
    t = extraction_summary(SUMMARY, seg)
    assert t.loc["A", "face_%"] == 95.0 and t.loc["B", "median frames"] == 3.0 and t.loc["A", "max frames"] == 6
    assert extraction_totals(SUMMARY) == (6, 1, 5, 2)
    with pytest.raises(ParameterError, match="no corpus"):
        extraction_summary({}, seg)


def test_boundary_table_pools_errors_per_corpus_and_over_all():
    e = pd.DataFrame({"corpus": ["A", "A", "B", "B"], "status": ["ok", "ok", "ok", "no speech"],
                      "score": [-10.0, -40.0, -5.0, np.nan],
                      "phone_errors": [np.array([0.010, 0.030]), np.array([0.100]), np.array([0.005]), None]})
    t = boundary_table(e)
    assert t["utterances"].tolist() == [2, 1, 3] and t.loc["all", "boundaries"] == 4
    assert t.loc["A", "median_ms"] == 30.0 and t.loc["all", "within_20ms_pct"] == 50.0
    assert evaluation_counts(e) == {"utterances": 4, "same": 3, "differs": 0, "failed": 1, "below_threshold": 1}
    s = aligner_statements(e, t, pd.DataFrame(columns=["status"]), simulated=True)
    assert "Over 4 boundaries the median absolute error is 20 ms" in s["phone_eval"]
    assert "synthesiser" in s["phone_eval"] and s["word_eval"] == ""


def test_statements_without_references_and_with_word_references():
    words = pd.DataFrame({"utterance_id": ["g1", "g2"], "status": ["ok", "word sequence differs"],
                          "boundaries": [7, np.nan], "median_ms": [40.0, np.nan]})
    s = aligner_statements(None, None, words)
    assert s["phone_eval"].startswith("This run has no reference TextGrids")
    assert s["word_eval"].startswith("On 1 real GRID clip(s)") and "40 ms (7 boundaries" in s["word_eval"]
    none_ok = aligner_statements(None, None, words.assign(status="word sequence differs"))["word_eval"]
    assert none_ok == "pocketsphinx aligned none of the 2 clips with a reference word alignment."


def test_word_evaluation_without_word_alignments_is_empty():
    m = pd.DataFrame({"utterance_id": ["a"], "video_path": [""], "word_alignment_path": [""]})
    assert word_boundary_evaluation(m).empty
    assert word_boundary_evaluation(m.drop(columns="word_alignment_path")).empty


def test_angle_range():
    assert angle_range([1.0, -3.0, np.nan]) == (-3.0, 1.0, 3.0)
    assert all(np.isnan(angle_range([np.nan])))


@pytest.mark.slow
def test_chapter_2_executes_on_a_tiny_simulated_run(tmp_path, book_root, execute_chapter):
    root = book_root(tmp_path / "root", "tiny", {
        "data": {"source": "simulate", "seed": 0, "utterances_per_corpus": 8,
                 "simulator": {"speakers_per_corpus": 2}},
        "extract": {"workers": 1, "aligner_eval_utterances": 2}})
    nb = execute_chapter("ch2_segmentation", root, "tiny")
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    assert [o for o in outputs if o.get("name") == "stderr"] == []
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 5
    tables = root / "papermill_runs" / "tiny" / "tables"
    for name in ("ch2_vowel_segments", "ch2_summary", "ch2_aligner_boundary_error"):
        assert (tables / f"{name}.csv").is_file(), name
    assert pd.read_csv(tables / "ch2_aligner_boundary_error.csv").iloc[-1]["utterances"] <= 2
    glued = {o["metadata"]["scrapbook"]["name"]: o["data"] for o in outputs if "scrapbook" in o.get("metadata", {})}
    assert json.loads(glued["n_utt"]["application/papermill.record/text/plain"]) == 16
