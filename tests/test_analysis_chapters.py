"""Chapters 3-5 execute end to end (papermill) on a tiny simulated run."""

import pytest

CHAPTERS = ("ch3_clustering", "ch4_overlap", "ch5_association")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, book_root):
    # 2 speakers x 4 emotions cycle, so 8 utterances per corpus hold every emotion.
    parameters = {
        "data": {"source": "simulate", "seed": 0, "utterances_per_corpus": 8,
                 "simulator": {"speakers_per_corpus": 2}},
        "extract": {"workers": 1},
        "cluster": {"k_range": [2, 3], "max_iter": 3, "elbow_max_iter": 2},
        "acoustic": {"encoder": "logmel", "options": {"n_mels": 16},
                     "association": {"layer": "cmn", "k": None, "n_permutations": 50, "seed": 0}},
    }
    return book_root(tmp_path_factory.mktemp("book"), "tiny", parameters)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executes(chapter, tiny_run, execute_chapter):
    executed = execute_chapter(chapter, tiny_run, "tiny")
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert any("image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", []))
    tables = {"ch3_clustering": "cluster_agreement.csv", "ch4_overlap": "emotion_overlap.csv",
              "ch5_association": "ag_acoustic_association.csv"}
    assert (tiny_run / "papermill_runs" / "tiny" / "tables" / tables[chapter]).is_file()
