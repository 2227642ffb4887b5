"""Chapters 3-5 execute end to end (papermill) on a tiny simulated run."""

import pytest

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
CHAPTERS = ("ch3_clustering", "ch4_overlap", "ch5_association")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    # 2 speakers x 4 emotions cycle, so 8 utterances per corpus hold every emotion.
    return {
        "run": "tiny",
        "work_dir": str(tmp_path_factory.mktemp("work")),
        "tables_dir": str(tmp_path_factory.mktemp("tables")),
        "repo_root": str(REPO),
        "data": {"source": "simulate", "seed": 0, "utterances_per_corpus": 8,
                 "simulator": {"speakers_per_corpus": 2}},
        "extract": {"workers": 1},
        "cluster": {"k_range": [2, 3], "max_iter": 3, "elbow_max_iter": 2},
        "acoustic": {"encoder": "logmel", "options": {"n_mels": 16},
                     "association": {"layer": "cmn", "k": None, "n_permutations": 50, "seed": 0}},
    }


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executes(chapter, tiny_run, tmp_path):
    import jupytext
    import nbformat
    import papermill as pm

    nb = jupytext.read(REPO / "book" / f"{chapter}.py")
    src = tmp_path / f"{chapter}.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / f"{chapter}.out.ipynb"
    pm.execute_notebook(str(src), str(out), parameters=tiny_run, cwd=str(REPO), progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert any("image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", []))
    tables = {"ch3_clustering": "cluster_agreement.csv", "ch4_overlap": "emotion_overlap.csv",
              "ch5_association": "ag_acoustic_association.csv"}
    assert (__import__("pathlib").Path(tiny_run["tables_dir"]) / tables[chapter]).is_file()
