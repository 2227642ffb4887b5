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
# # Results at a glance
#
# ## Overview
#
# One row per claim of the paper: what the paper reports, what this run finds, whether
# they agree, and the chapter that shows the evidence. Every value of the table is
# computed here by the same cached run stages the chapters call, and each verdict follows
# a rule stated in `agser.analysis.glance`: **yes** when this run shows what the paper
# claims, **partly** when it shows some of it (one direction of two, some emotions or
# panels), **no** when it does not, **not run** when this run cannot test it.
#
# 1. The claims, the paper's figures and this run's
# 2. How to read the verdicts
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [Introduction](intro.ipynb) | Necessary | the paper's claims in full |
# | 95 % confidence interval of a paired difference | Helpful | how the SER rows are decided |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
from agser.analysis import glance
from agser.analysis.association import association_findings
from agser.analysis.overlap import overlap_analysis
from agser.analysis.sanity import choose_sanity_clusters, sanity_gaps
from agser.plot import book_style, glue_values
from agser.run import Run
from agser.ser import report

book_style()  # also quiets two notices that would print as stderr
r = Run.named(run, work_dir=work_dir)
ag = r.clusters()
segments, gestures = ag["segments"], r.gesture_frames()
gaps = sanity_gaps(segments, [gestures[i] for i in segments["row"]], choose_sanity_clusters(segments, ("ɑ", "i"), 2))
findings = overlap_analysis(segments, ag["k"], threshold=25.0)["findings"]
a = r.ag_acoustic_association()
drawn = ["happiness", "anger", "sadness"]
ready, why = r.ser_ready()
if ready:
    main = report.main_condition(r.conditions())
    ser = glance.ser_rows(report.summary_ci(r.ser_results()), r.ser_contrasts(), main)
else:
    ser = glance.ser_rows(why=why)
table = glance.glance_table([
    glance.elbow_row(ag["k_elbow"], r.params["cluster"]["k_range"]), glance.sanity_row(gaps),
    glance.overlap_row(findings), glance.emotion_row(findings),
    glance.association_row(association_findings(a["result"], a["strict"], a["per_layer"], drawn,
                                                a["params"]["n_permutations"])), *ser])
r.save_table("glance", table, index=True)
glue_values({**glance.glance_glue(table), "run": run})

# %% [markdown]
# ## The claims
#
# Run **{glue:text}`run`**: {glue:text}`n_yes` claims agree, {glue:text}`n_partly` agree
# in part, {glue:text}`n_no` do not, and {glue:text}`n_not_run` cannot be tested on this
# run. (The talk's figures are lost from its text; "paper" gives what it states or
# tabulates.)
#
# | Claim | Paper | This run | Agrees | Chapter |
# |---|---|---|---|---|
# | {glue:text}`elbow_claim` | {glue:text}`elbow_paper` | {glue:text}`elbow_ours` | **{glue:text}`elbow_agrees`** | [3](ch3_clustering.ipynb) |
# | {glue:text}`sanity_claim` | {glue:text}`sanity_paper` | {glue:text}`sanity_ours` | **{glue:text}`sanity_agrees`** | [3](ch3_clustering.ipynb) |
# | {glue:text}`overlap_claim` | {glue:text}`overlap_paper` | {glue:text}`overlap_ours` | **{glue:text}`overlap_agrees`** | [4](ch4_overlap.ipynb) |
# | {glue:text}`emotion_claim` | {glue:text}`emotion_paper` | {glue:text}`emotion_ours` | **{glue:text}`emotion_agrees`** | [4](ch4_overlap.ipynb) |
# | {glue:text}`association_claim` | {glue:text}`association_paper` | {glue:text}`association_ours` | **{glue:text}`association_agrees`** | [5](ch5_association.ipynb) |
# | {glue:text}`ser_ci_claim` | {glue:text}`ser_ci_paper` | {glue:text}`ser_ci_ours` | **{glue:text}`ser_ci_agrees`** | [6](ch6_ser.ipynb) |
# | {glue:text}`ser_ic_claim` | {glue:text}`ser_ic_paper` | {glue:text}`ser_ic_ours` | **{glue:text}`ser_ic_agrees`** | [6](ch6_ser.ipynb) |
# | {glue:text}`upper_claim` | {glue:text}`upper_paper` | {glue:text}`upper_ours` | **{glue:text}`upper_agrees`** | [6](ch6_ser.ipynb) |
# | {glue:text}`hard_claim` | {glue:text}`hard_paper` | {glue:text}`hard_ours` | **{glue:text}`hard_agrees`** | [7](ch7_ablation.ipynb) |
#
# ## How to read the verdicts
#
# - **Clustering** (chapter 3): the elbow's $k$ agrees only when it is the paper's 10; the
#   sanity check holds in a panel when the two clusters' mean trajectories are further
#   apart than the two corpora's within a cluster.
# - **Overlap** (chapter 4): *yes* when every vowel has a cluster common to both corpora
#   and $\mathrm{Sim}$ lies within 10 points of the paper's "All" row on average; the
#   emotion-specific claim holds when the emotion with the highest $\mathrm{Sim}$ differs
#   between vowels.
# - **Association** (chapter 5): the AG clusters are more concentrated over the acoustic
#   clusters than shuffled AG clusters ($p < 0.05$), per emotion the paper draws.
# - **SER** (chapters 6 and 7): a method *beats* another when the 95 % confidence interval
#   of the per-seed paired difference of UAR lies above 0 (the intervals are given,
#   in UAR points). The paper gives single numbers without spread, so "agrees" asks
#   whether this run shows the same ordering with confidence, not the same values.
#
# ## Summary
#
# - **What agrees**: the rows marked *yes* above ({glue:text}`n_yes` of them).
# - **What does not**: the rows marked *no* ({glue:text}`n_no`) and *partly*
#   ({glue:text}`n_partly`); each chapter says why, usually the corpora's size (a run's
#   few speakers and segments against the paper's hours) or this run's own choices where
#   the paper is silent.
# - **What this run cannot say**: the *not run* rows ({glue:text}`n_not_run`), with the
#   reason in the table.
