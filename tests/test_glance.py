"""Results at a glance (agser.analysis.glance and book/glance.py): the rules of each verdict, the page."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agser.analysis import glance
from agser.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]

FINDINGS = {"every_vowel_shared": True, "no_common": "none", "common_lo": 2, "common_hi": 4, "sim_lo": 60.0,
            "sim_hi": 80.0, "sim_mae": 5.0, "paper_common_lo": 3, "paper_common_hi": 4, "paper_sim_lo": 68.8,
            "paper_sim_hi": 76.6, "emotion_varies": True, "best_emotion": "anger", "paper_best_emotion": "happiness",
            "n_best_agree": 2}


def _contrasts(values):
    """Contrast rows from {(name, direction): (mean, ci_low, ci_high)}."""
    return pd.DataFrame([{"condition": "default", "contrast": n, "direction": d, "mean": m, "ci_low": lo,
                          "ci_high": hi, "n_seeds": 5, "p": 0.01} for (n, d), (m, lo, hi) in values.items()])


def _summary(means):
    idx = pd.MultiIndex.from_tuples([("default", m, d) for m, d in means], names=["condition", "method", "direction"])
    return pd.DataFrame({"mean": list(means.values())}, index=idx)


def test_clustering_rows():
    assert glance.elbow_row(10, [2, 12])["agrees"] == "yes"
    assert glance.elbow_row(4, [2, 4]) == {"id": "elbow", "paper": "k = 10", "ours": "k = 4 (searched 2-4)",
                                           "agrees": "no"}
    holds = lambda *v: pd.DataFrame({"holds": list(v)})  # noqa: E731
    assert [glance.sanity_row(holds(*v))["agrees"] for v in ((True, True), (True, False), (False,), (np.nan,))] == \
        ["yes", "partly", "no", "not run"]


def test_overlap_rows_follow_their_rules():
    assert glance.overlap_row(FINDINGS)["agrees"] == "yes"
    assert glance.overlap_row({**FINDINGS, "sim_mae": 15.0})["agrees"] == "partly"
    lacking = {**FINDINGS, "every_vowel_shared": False, "no_common": "/u/", "sim_mae": 15.0}
    row = glance.overlap_row(lacking)
    assert row["agrees"] == "no" and row["ours"].startswith("no common cluster for /u/")
    assert glance.overlap_row({**FINDINGS, "sim_mae": float("nan")})["agrees"] == "partly"
    assert glance.emotion_row(FINDINGS)["agrees"] == "yes"
    assert glance.emotion_row({**FINDINGS, "emotion_varies": False})["agrees"] == "no"


def test_association_row():
    f = {"n_sig": 3, "n_emotions": 3, "entropy": 0.7, "entropy_null": 0.8, "strict_holds": False}
    row = glance.association_row(f)
    assert row["agrees"] == "yes" and row["ours"].endswith("not beyond a shared corpus effect")
    assert glance.association_row({**f, "n_sig": 0})["agrees"] == "no"
    assert glance.association_row({**f, "n_emotions": 0, "n_sig": 0})["agrees"] == "not run"


def test_ser_rows_decide_by_the_confidence_intervals():
    c = _contrasts({("AG - PA", "C->I"): (2.0, 0.5, 3.5), ("AG - LA", "C->I"): (1.0, 0.2, 1.8),
                    ("AG - PA", "I->C"): (2.0, 0.5, 3.5), ("AG - LA", "I->C"): (1.0, -0.2, 2.2),
                    ("AG - source-only", "C->I"): (-1.0, -2.0, 0.1), ("AG - source-only", "I->C"): (1.0, 0.1, 2.0),
                    ("AG - Hard-AG", "C->I"): (-1.0, -2.0, -0.1), ("AG - Hard-AG", "I->C"): (-0.5, -2.0, 1.0)})
    s = _summary({("upper-bound", "I->I"): 60.0, ("upper-bound", "C->C"): 65.0, ("AG", "C->I"): 55.0,
                  ("AG", "I->C"): 50.0})
    rows = {r["id"]: r for r in glance.ser_rows(s, c, "default")}
    assert [rows[i]["agrees"] for i in ("ser_ci", "ser_ic", "upper", "hard")] == ["yes", "partly", "partly", "no"]
    assert rows["ser_ci"]["ours"] == "AG - PA +2.0 [+0.5, +3.5]; AG - LA +1.0 [+0.2, +1.8]"
    assert rows["upper"]["ours"].startswith("AG 5.0 (C->I) and 15.0 (I->C) points below the upper bound")
    assert rows["hard"]["paper"] == "AG above Hard-AG by 2.50 (C->I) and 0.93 (I->C)"
    other = glance.ser_rows(s, c.assign(condition="positive"), "default")
    assert {r["agrees"] for r in other} == {"not run"}  # no contrast of the condition asked for


def test_table_order_and_glue_names():
    rows = [glance.elbow_row(5, [2, 12]), glance.sanity_row(pd.DataFrame({"holds": [True]})),
            glance.overlap_row(FINDINGS), glance.emotion_row(FINDINGS),
            glance.association_row({"n_sig": 1, "n_emotions": 3, "entropy": 0.7, "entropy_null": 0.8,
                                    "strict_holds": True}), *glance.ser_rows(why="no corpus pair")]
    table = glance.glance_table(rows[::-1])
    assert list(table.index) == [i for i, _, _ in glance.CLAIMS]
    assert table.loc["ser_ci", "ours"] == "not run: no corpus pair"
    g = glance.glance_glue(table)
    assert (g["n_yes"], g["n_partly"], g["n_no"], g["n_not_run"]) == (3, 1, 1, 4)
    assert g["hard_claim"] == "AG beats Hard-AG, both directions"
    with pytest.raises(ParameterError, match=r"lack claim\(s\) \['elbow'\]"):
        glance.glance_table(rows[1:])
    with pytest.raises(ParameterError, match="claim 'elbow' has two rows"):
        glance.glance_table(rows + rows[:1])
    with pytest.raises(ParameterError, match="agrees='maybe'"):
        glance._row("elbow", "", "", "maybe")


def test_the_page_has_one_row_per_claim_linking_its_chapter():
    source = (REPO / "book" / "glance.py").read_text()
    rows = re.findall(r"^# \| \{glue:text\}`(\w+)_claim` \|.*\[\d\]\((\w+)\.ipynb\) \|$", source, flags=re.M)
    assert rows == [(i, chapter) for i, _, chapter in glance.CLAIMS]
    for i, _, _ in glance.CLAIMS:
        for col in ("paper", "ours", "agrees"):
            assert f"{{glue:text}}`{i}_{col}`" in source, (i, col)


@pytest.mark.slow
def test_intro_and_glance_execute_on_a_run_without_ser(tmp_path, book_root, execute_chapter):
    # 2 speakers a corpus: too few to train SER, so its rows must say why instead of failing
    root = book_root(tmp_path / "root", "tiny", {
        "data": {"source": "simulate", "seed": 0, "utterances_per_corpus": 8,
                 "simulator": {"speakers_per_corpus": 2}},
        "extract": {"workers": 1},
        "cluster": {"k_range": [2, 3], "max_iter": 3, "elbow_max_iter": 2},
        "acoustic": {"encoder": "logmel", "options": {"n_mels": 16}, "association": {"n_permutations": 50}}})
    for chapter in ("intro", "glance"):
        nb = execute_chapter(chapter, root, "tiny")
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert [o for o in outputs if o.get("output_type") == "error"] == [], chapter
        assert [o for o in outputs if o.get("name") == "stderr"] == [], chapter
    table = pd.read_csv(root / "papermill_runs" / "tiny" / "tables" / "glance.csv", index_col="id")
    assert list(table.index) == [i for i, _, _ in glance.CLAIMS]
    assert set(table.loc[["ser_ci", "ser_ic", "upper", "hard"], "agrees"]) == {"not run"}
    assert table.loc["ser_ci", "ours"].startswith("not run: corpus 'sim-crema' has 2 speakers")
    assert set(table["agrees"]) <= set(glance.AGREES)
