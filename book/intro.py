# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Introduction
#
# This book is the reproducible companion of the paper *Mouth Articulation-Based
# Anchoring for Improved Cross-Corpus Speech Emotion Recognition* (S. G. Upadhyay,
# A. N. Salman, C. Busso and C.-C. Lee, arXiv 2412.19909). Every figure and table in
# it is computed, when the book is built, by the `agser` package from the corpora of
# one *run*; the last section of this page says which run built the copy you are
# reading, and with which parameters.

# %% tags=["parameters"]
# The run whose parameters, corpora and store this page uses (`agser book --run NAME` sets it).
run = "default"
work_dir = None  # None: the run's own papermill_runs/NAME/work

# %% [markdown]
# ## What the paper claims
#
# A speech emotion recognition (SER) model trained on one corpus loses accuracy on
# another: speakers, recording conditions, noise and the way emotions are elicited all
# differ. The usual remedies (transfer learning, semi-supervised and few-shot learning,
# adversarial feature alignment) work on the acoustic features alone and treat the
# mismatch purely computationally. The paper instead looks for something that should
# stay stable across corpora because it is tied to how speech is produced: the
# **articulatory gestures (AGs) of the mouth**. It proceeds in two steps.
#
# **1. Are mouth gestures shared across corpora?** On two audio-visual English corpora,
# CREMA-D (acted, scripted sentences) and MSP-IMPROV (dyadic, improvised and scripted
# speech), the paper
#
# - tracks 68 facial landmarks per video frame with OpenFace and keeps the 12 points of
#   the outer lip contour (points 48-59);
# - rotates every frame so that the line between the eyes is horizontal and scales it by
#   the inter-pupil distance;
# - cuts the mouth trajectories at the phone boundaries of a forced alignment;
# - clusters the phone-bounded segments of four emotions (neutral, anger, happiness,
#   sadness) from both corpora with time-series k-means under soft-DTW, with the number
#   of clusters (10) chosen by the elbow of the inertia curve.
#
# A sanity check shows that two clusters hold visibly different trajectories of the same
# vowel, while segments of the two corpora in the same cluster look alike. An overlap
# measure (`Sim`, with a 25 % threshold for a cluster to count as common) finds that a
# vowel's segments spread over several clusters, that some clusters are shared by both
# corpora for most vowels, and that the overlap depends on the emotion. An association
# analysis finds that the acoustic (wav2vec 2.0) embeddings of the segments of one AG
# cluster fall into few acoustic clusters: gestures and their acoustics go together.
#
# **2. Can shared gestures anchor cross-corpus SER?** The proposed model has two
# branches: a conventional SER branch (pre-trained acoustic encoder, pooling, classifier,
# cross-entropy loss `L_ER` on the labelled source corpus) and an AG-anchoring branch that
# pulls together the acoustic embeddings of source and unlabelled target segments that
# fall in a common AG cluster (loss `L_AG`); training minimises `L_ER + gamma * L_AG`.
# Against two earlier anchoring methods by the same group, phonetic anchoring (PA, common
# phones as anchors) and layer anchoring (LA, aligning chosen encoder layers), the paper
# reports the best four-class unweighted average recall for AG anchoring in both
# directions, CREMA-D to MSP-IMPROV (C->I) and back (I->C), better per-emotion recall in
# most cases, and, in an ablation, that anchoring on hard phone-bounded segments without
# clustering (Hard-AG) does worse than anchoring on AG clusters. Training and testing
# within one corpus gives the upper bound.
#
# The paper's own four-category results, as its slides give them (shipped with the
# package in `agser/analysis/paper_tables/`; these are the paper's numbers, not this
# run's):

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from agser.analysis import paper_table

paper_ser = paper_table("ser_results")
paper_uar = paper_ser.pivot(index="method", columns="direction", values="category_uar")
paper_uar = paper_uar.loc[["upper_bound", "PA", "LA", "AG", "Hard-AG"]]
display(paper_uar.style.format("{:.2f}", na_rep="").set_caption(
    "Paper: four-category UAR (%); C = CREMA-D, I = MSP-IMPROV"))
cross = paper_ser[paper_ser["direction"].isin(["C->I", "I->C"])]
best = cross.loc[cross.groupby("direction")["category_uar"].idxmax(), ["direction", "method"]]
display(Markdown("In the paper's table the best cross-corpus method is " + ", ".join(
    f"**{row.method}** for {row.direction}" for row in best.itertuples()) + "."))

# %% [markdown]
# ## What this book does with it
#
# The book runs every one of these steps with the `agser` package, in the paper's order,
# one chapter each. Where the paper has a table, a chapter sets the paper's numbers beside
# the run's own, on the same rows and columns, and says in prose what agrees and what does
# not. The numbers are the run's: nothing is copied from the paper except the paper's own
# tables, labelled as such.
#
# CREMA-D and MSP-IMPROV cannot be shipped with the book (MSP-IMPROV is licensed), so the
# **default run** uses the package's built-in articulatory-acoustic simulator: two
# corpora, one CREMA-D-like and one MSP-IMPROV-like, with a known domain shift between
# them (speakers, sentences, frame rate, recording channel, emotion intensity). Its
# results answer the paper's questions on data whose truth is known; they are not the
# paper's results and are not expected to match them number for number. The Corpora
# chapter describes the simulator and where its difficulty sits.
#
# The chapters, as `_toc.yml` lists them for this build:

# %% tags=["hide-input"]
import datetime
import importlib.metadata
import platform
import re
import subprocess
from pathlib import Path

import yaml
from IPython.display import Markdown, display

import agser
from agser.book import load_run, toc_chapters
from agser.run import find_root

root = find_root()


def chapter_title(name):
    """The first `# Title` line of a chapter source, or its name."""
    # A percent script's markdown heading reads "# # Title"; a markdown source's "# Title".
    for suffix, pattern in ((".py", r"^# # (\S.*)$"), (".md", r"^# (\S.*)$")):
        source = root / "book" / f"{name}{suffix}"
        if source.is_file():
            for line in source.read_text(encoding="utf-8").splitlines():
                match = re.match(pattern, line)
                if match:
                    return match.group(1).strip()
            return name
    return f"{name} (no source in book/)"


chapters = toc_chapters(root)
display(Markdown("\n".join(
    f"{i}. **{chapter_title(name)}** (`book/{name}.py`)" for i, name in enumerate(chapters, 1)
)))

# %% [markdown]
# ## How to read and re-run the book
#
# Each page is a notebook executed by [papermill](https://papermill.readthedocs.io) and
# rendered by Jupyter Book. Code cells are shown with their output; the first code cell of
# a chapter holds its parameters (as the chapter's source declares them), and the cell
# after it, tagged `injected-parameters`, holds the values the run gave it.
#
# On a fresh machine, from a checkout of the repository:
#
# ```bash
# make book    # creates .venv, installs agser, runs `agser book --run default`
# make test    # the test suite
# ```
#
# `make book` writes the executed notebooks to `papermill_runs/default/` and the HTML to
# `_build/html/` (open `_build/html/index.html`). Every intermediate result goes through
# an artifact store in `papermill_runs/<run>/work/`, keyed by stage, parameters and inputs,
# so a second build recomputes only what changed and an interrupted build resumes.
#
# The `agser` command does the same with choices:
#
# ```bash
# agser book --run default                      # every chapter, then the HTML
# agser book --run default --chapters ch3_clustering --no-html   # one chapter, no HTML
# agser book --run samples                      # another run
# ```
#
# A **run** is a folder `papermill_runs/<name>/` with a `params.yaml`. Every key under its
# `parameters:` reaches every chapter as a papermill parameter, with `run`, `work_dir`,
# `tables_dir` and `repo_root` added by `agser book`; an optional `chapters:` list
# restricts the run to some chapters. To run the book on your own corpus, build a manifest
# (one row per utterance: id, corpus, speaker, emotion, transcript, audio and video paths,
# optional landmark and alignment files) with the corpus adapters (`agser corpus --help`
# lists them: CREMA-D, MSP-IMPROV, GRID, a generic CSV), one per corpus:
#
# ```bash
# agser corpus --kind crema-d --root /data/CREMA-D --out mine/crema.csv
# agser corpus --kind msp-improv --root /data/MSP-IMPROV --out mine/improv.csv
# ```
#
# join the two into one manifest (each row keeps its `corpus`):
#
# ```python
# import pandas as pd
# from agser.corpora import read_manifest, write_manifest
# write_manifest(pd.concat([read_manifest("mine/crema.csv"), read_manifest("mine/improv.csv")],
#                          ignore_index=True), "mine/manifest.csv")
# ```
#
# and point a new run at it:
#
# ```yaml
# # papermill_runs/mine/params.yaml
# description: My two corpora.
# parameters:
#   data:
#     source: manifest
#     manifest: /abs/path/to/manifest.csv
#   extract: {landmarks: auto, aligner: auto, workers: 4}
#   cluster: {}
#   acoustic: {}
#   ser: {}
# ```
#
# then `agser book --run mine`. The `paper` run documents every parameter of the paper's
# setting (full CREMA-D and MSP-IMPROV, a wav2vec 2.0 checkpoint); it needs those corpora
# and weights on your machine.
#
# ## Which run built this copy
#
# The values below are the parameters this notebook received, printed when the book was
# built.

# %% tags=["hide-input"]
def git_commit(folder):
    """The checkout's commit, or 'unknown (reason)'."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=30,
        )
    except FileNotFoundError:
        return "unknown (git is not installed)"
    if head.returncode != 0:
        reason = (head.stderr.strip().splitlines() or ["git rev-parse failed"])[-1]
        return f"unknown ({reason})"
    commit = head.stdout.strip()
    status = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, timeout=30,
    )
    if status.returncode == 0 and status.stdout.strip():
        commit += " (with uncommitted changes to tracked files)"
    return commit


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


spec = load_run(run, root)
provenance = {
    "run": run,
    "description": spec["description"],
    "params.yaml": str(spec["path"].relative_to(root)),
    "chapters of the run": spec["chapters"] or "all chapters of _toc.yml",
    "agser": agser.__version__,
    "git commit": git_commit(root),
    "built (UTC)": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "python": platform.python_version(),
    "torch": package_version("torch"),
    "numpy": package_version("numpy"),
    "papermill": package_version("papermill"),
    "jupyter-book": package_version("jupyter-book"),
    "platform": platform.platform(),
}
display(Markdown(
    "\n".join(f"- **{key}**: `{value}`" for key, value in provenance.items())
    + "\n\nThe run's own settings (`parameters:` of its params.yaml; every other value is the "
    "default of `agser.run.schema`):\n\n```yaml\n"
    + yaml.safe_dump(spec["overrides"] or {}, sort_keys=False, default_flow_style=None, allow_unicode=True)
    + "```"
))
