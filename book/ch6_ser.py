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
# # 6 AG-anchored cross-corpus SER
#
# **Verdict.** {glue:text}`verdict` {glue:text}`oracle`
#
# ## Overview
#
# The paper's headline result: a speech emotion recognition (SER) model trained on one
# labelled corpus and tested on another does better when the acoustic embeddings of
# phone segments of the two corpora that share a mouth articulatory gesture (AG) cluster
# are pulled together during training,
#
# $$L = L_{ER} + \gamma \, L_{AG},$$
#
# where $L_{ER}$ is the cross-entropy on the labelled source corpus and $L_{AG}$ a
# soft-weighted triplet loss on segments of source and *unlabelled* target utterances
# in a common AG cluster. This chapter trains every method on the run's two corpora in
# both directions, and tests the claim against what a working method must beat:
#
# 1. the paper's table beside ours;
# 2. the paired contrasts, each with its 95 % confidence interval: AG against
#    source-only, and against **AG-shuffled** (the same loss, anchors and weights, with
#    the segments' cluster labels permuted within each corpus) and **AG-oracle** (the
#    simulator's true articulatory classes as anchors: the best anchors this loss can get);
# 3. the controls, where this run has them;
# 4. the protocol and the training diagnostics.
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [AG clustering](ch3_clustering.ipynb) | Necessary | the anchors |
# | [Cross-corpus overlap](ch4_overlap.ipynb) | Necessary | the common clusters and weights $s_i$ |
# | Unweighted average recall (UAR) | Necessary | the mean of the four classes' recalls; chance 25 % |
# | Triplet loss, CORAL | Helpful | the anchoring losses |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from agser.plot import book_style, glue_values, page_table, plot_contrasts, plot_training
from agser.run import Run
from agser.ser import report

book_style()
r = Run.named(run, work_dir=work_dir)
glue_values(dict(zip(("paper_lo", "paper_hi"), report.paper_ag_margins())))
ready, why = r.ser_ready()
if ready:
    results, contrasts = r.ser_results(), r.ser_contrasts()
    r.save_table("ser_results", results.drop(columns=["fit_s", "epochs"]).round(2))
    r.save_table("ser_contrasts", contrasts.round(4))
    summary = report.summary_ci(results)
    main = report.main_condition(r.conditions())
    glue_values({"verdict": report.verdict(contrasts, main), "oracle": report.oracle_statement(contrasts, main),
                 "condition": main, "n_seeds": len(r.params["ser"]["seeds"]),
                 "n_test": int(r.ser_run("AG", "C->I", r.params["ser"]["seeds"][0])["n_test"]),
                 "n_train": int(results["n_train"].iloc[0])})
else:
    glue_values({"verdict": f"This run cannot train the SER models: {why}.", "oracle": "", "condition": "-",
                 "n_seeds": 0, "n_test": 0, "n_train": 0})
    display(Markdown(f"**This run cannot train the SER models: {why}.** The default run and the paper run can."))

# %% [markdown]
# ## The paper's table beside ours
#
# UAR (%) over the four emotions, by test corpus (a method tested on I is C->I, the upper
# bound tested on I is I->I); ours is the mean over {glue:text}`n_seeds` seeds with
# its 95 % confidence interval, in condition {glue:text}`condition`. Every model of a
# seed trains on the same number of labelled utterances ({glue:text}`n_train`), the upper
# bound included (speaker-fold cross-validation over the target corpus), and is tested
# on the same {glue:text}`n_test` utterances of the target's held-out speakers. The paper
# has no source-only, AG-shuffled or AG-oracle row, nor a spread; `tables/ser_results.csv`
# holds every seed and the per-emotion figures (one-vs-rest binary UAR).

# %%
if ready:
    display(page_table(report.paper_beside_ours(summary, main)))

# %% [markdown]
# ## What the contrasts show
#
# Each point is the mean over seeds of a per-seed paired difference of UAR (every seed
# shares its speaker split and test set, so a pair differs only by the method), with its
# 95 % t confidence interval; the table adds the paired t-test's p-value, corrected by
# Holm's method for the number of contrasts of the condition (`tables/ser_contrasts.csv`).
# A difference whose interval holds 0 is not evidence either way.

# %%
if ready:
    plot_contrasts(contrasts)
    plt.show()
    display(page_table(contrasts[["condition", "direction", "contrast", "mean", "ci_low", "ci_high", "p"]]
                       .set_index(["condition", "direction", "contrast"]), digits=2))

# %% [markdown]
# ## Controls
#
# Three simulator conditions test the method itself (the `controls` run, built by
# `make book RUN=controls`; this page shows them when it is that run):
#
# - **positive**: the two corpora share speakers' articulation-to-acoustics mapping and
#   emotion style; the target's channel is damaged (noise, reverberation, a narrow band)
#   in a way that per-speaker normalisation cannot undo. The damage's strength is the
#   first of a grid that adds at least `controls.min_gap` points to source-only's loss
#   against the upper bound (over the loss without damage), on seeds not used for the
#   results: it is set from source-only and the upper bound alone, never from AG.
# - **no-shift**: no channel or emotion-style shift; speakers and sentences still differ.
#   Nothing that articulatory anchors are meant to fix.
# - **decoupled**: as positive, but every face comes from another utterance of the same
#   speaker (other words), so the gestures say nothing about the audio.
#
# Each control's expected outcome, stated in the package (`agser.ser.report.EXPECTED`)
# before any result was computed, is set beside what was found.

# %%
if ready and r.params["controls"]["conditions"]:
    checks = report.control_checks(contrasts)
    display(page_table(checks.drop(columns="why").set_index(["condition", "contrast", "direction"])))
    cal = r.calibration()
    glue_values({"calibration": report.calibration_statement(cal, r.params["controls"]["min_gap"]),
                 "controls": report.controls_statement(checks)})
    display(page_table(cal["table"].groupby("damage")[["source_only", "upper_bound", "gap"]].mean(), digits=1))
else:
    glue_values({"calibration": "This run has no controls: its controls.conditions is empty.",
                 "controls": "This run has no controls; the controls run has them."})

# %% [markdown]
# {glue:text}`calibration` {glue:text}`controls`

# %% [markdown]
# ## Protocol and choices fixed in advance
#
# Per seed, the target corpus is split by speaker into an unlabelled adaptation half and
# a test half; a cross-corpus model trains on the labelled source (minus held-out source
# speakers for early stopping) and on the adaptation half's audio only. No target label
# is read in training, in the cluster model, or in choosing anchors (tests check all
# three). $\gamma$, the margin and the overlap threshold were fixed before any target
# result was seen; the number of epochs is chosen by early stopping on held-out
# **source** speakers. One change was made after a result of a development build had been
# seen: LA's CORAL term had been rescaled to the size of $L_{ER}$; on an easy synthetic
# pair where every other method learns (`tests/test_ser.py`), that rescaling made LA
# predict one class, so it was removed. The synthetic test, not a target result, decides
# it.

# %%
s = r.params["ser"]
display(page_table(report.protocol_table(s)))

# %% [markdown]
# ## Training diagnostics
#
# Per method: the best epoch and the UAR of the held-out *source* speakers there (what
# early stopping reads; no target label), the anchors and triplets per training step,
# and the share of segments that fall in a common cluster (those that can be anchors). Below, the
# curves of $L_{ER}$ and of the anchoring loss of AG's first seed in each direction, with
# the validation UAR that early stopping reads.

# %%
if ready:
    runs = r.ser_runs(main)
    diag = report.training_diagnostics(runs)
    display(page_table(report.diagnostics_summary(diag), digits=1))
    for d in ("C->I", "I->C"):
        plot_training(runs[("AG", d, r.params["ser"]["seeds"][0])]["history"], title=f"AG {d}")
        plt.show()

# %% [markdown]
# ## Gamma after the fact
#
# AG's UAR at other values of $\gamma$ (`ser.gamma_sweep`, `ser.sweep_seeds`), shown after
# the table and never used to choose the table's $\gamma$.

# %%
if ready and s["gamma_sweep"]:
    display(page_table(r.gamma_sweep().groupby(["gamma", "direction"])["uar"].mean().unstack(), digits=1))

# %% [markdown]
# ## Summary
#
# - **The claim**: {glue:text}`verdict`
# - **The loss itself**: {glue:text}`oracle`
# - **The controls**: {glue:text}`controls`
# - **Against the paper**: the paper reports AG above PA, LA and Hard-AG by
#   {glue:text}`paper_lo:.1f` to {glue:text}`paper_hi:.1f` UAR points, single numbers with
#   no spread or test; set them against the intervals above. See
#   [the ablation](ch7_ablation.ipynb) for Hard-AG.
