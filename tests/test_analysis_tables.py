"""Narrow tables for a page (agser.analysis.tables) and the introduction's provenance (agser.analysis.provenance)."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from agser.analysis.provenance import chapter_list, chapter_title, git_commit, provenance_table, run_settings
from agser.analysis.tables import paired_cells, paper_uar_table

REPO = Path(__file__).resolve().parents[1]


def test_paired_cells_keep_rows_either_table_has_and_mark_missing_values():
    ours = pd.DataFrame({"i": [1.04, np.nan], "u": [2.0, 3.0]}, index=[1, 2])
    paper = pd.DataFrame({"i": [5.0, 6.0, 7.0]}, index=[1, 2, 3])
    t = paired_cells(ours, paper, fmt="{:.0f}")
    assert list(t.index) == [1, 2, 3] and list(t.columns) == ["i", "u"]
    assert t["i"].tolist() == ["1 / 5", "– / 6", "– / 7"]
    assert t["u"].tolist() == ["2 / –", "3 / –", "– / –"]
    assert paired_cells(ours, paper, columns=["u"], sep="|", missing="?").loc[3, "u"] == "?|?"


def test_paper_uar_table_is_the_papers():
    t = paper_uar_table()
    assert t.loc["upper_bound", "C->C"] == 66.36 and np.isnan(t.loc["AG", "C->C"])
    assert t[["C->I", "I->C"]].drop(index="upper_bound").idxmax().tolist() == ["AG", "AG"]


def test_chapter_titles_of_the_real_book():
    assert chapter_title(REPO, "ch4_overlap") == "4 Cross-corpus overlap of AG clusters"
    assert chapter_title(REPO, "glance") == "Results at a glance"
    lines = chapter_list(REPO, ["intro", "glance"]).splitlines()
    assert lines == ["1. **Introduction** (`book/intro.py`)", "2. **Results at a glance** (`book/glance.py`)"]


def test_provenance_of_this_checkout():
    commit = git_commit(REPO)
    assert re.match(r"^[0-9a-f]{40}( \(with uncommitted changes to tracked files\))?$", commit), commit
    spec = {"path": REPO / "papermill_runs" / "default" / "params.yaml", "description": "d", "chapters": None,
            "overrides": {}}
    t = provenance_table("default", spec, REPO)
    assert t.loc["params.yaml", "value"] == "papermill_runs/default/params.yaml"
    assert t.loc["chapters of the run", "value"] == "all chapters of _toc.yml"
    assert {"torch", "numpy", "jupyter-book", "git commit"} <= set(t.index)
    assert run_settings(spec).startswith("The run sets no parameter")
    assert run_settings({"overrides": {"data": {"source": "samples"}}}) == "```yaml\ndata: {source: samples}\n```"
