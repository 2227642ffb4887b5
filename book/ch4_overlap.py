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
# # 4 Cross-corpus overlap of AG clusters
#
# ## Overview
#
# Are the mouth gestures of a vowel shared by the two corpora? The paper passes every
# segment of both corpora through the AG cluster model and measures, per vowel, how
# similarly the two corpora spread the vowel over the clusters, keeping only the clusters
# common to both (a 25 % threshold). This chapter does the same with this run's cluster
# model, beside the paper's tables.
#
# 1. How Sim is read, checked on the paper's own numbers
# 2. Per-cluster overlap, beside the paper's
# 3. Sim per vowel, and the ceiling that sampling noise sets
# 4. Emotion-specific overlap, beside the paper's
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [AG clustering](ch3_clustering.ipynb) | Necessary | the cluster model whose labels are compared |
# | [Preprocessing and segmentation](ch2_segmentation.ipynb) | Helpful | what a vowel segment is |
# | IPA vowels /ɑ/ /ə/ /ɛ/ /i/ /æ/ /u/ | Helpful | the paper's six vowels |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
import matplotlib.pyplot as plt
from IPython.display import display

from agser.analysis.glance import emotion_row, overlap_row
from agser.analysis.overlap import overlap_analysis
from agser.analysis.tables import paired_cells
from agser.plot import book_style, glue_values, page_table, plot_table_pair
from agser.run import Run

book_style()
r = Run.named(run, work_dir=work_dir)
ag = r.clusters()
ov = overlap_analysis(ag["segments"], ag["k"], threshold=25.0)
r.save_table("cluster_overlap", ov["table"], index=True)
r.save_table("emotion_overlap", ov["emotion"], index=True)
glue_values({**ov["findings"], "overlap_agrees": overlap_row(ov["findings"])["agrees"],
             "emotion_agrees": emotion_row(ov["findings"])["agrees"]})

# %% [markdown]
# ## How Sim is read
#
# The paper's slide gives, for a vowel and the $K$ clusters common to the two corpora,
#
# $$\mathrm{Sim} = \frac{1}{K} \sum_{i=1}^{K} \min\left(\frac{N_{1,i}}{N_1}, \frac{N_{2,i}}{N_2}\right) \times 100,$$
#
# where $N_{c,i}$ is the number of the vowel's segments of corpus $c$ in cluster $i$ and
# $N_c$ all the vowel's segments of corpus $c$. Read literally, its per-cluster terms add
# up to at most 100 over the clusters, but the columns of the paper's per-cluster table
# add up to nearly 300: its values are a ratio in which 100 means "both corpora put the
# same share of this vowel into this cluster". So this book reads it as follows. With
# $p_c(i) = N_{c,i} / N_c$, the per-cluster overlap is
#
# $$s_i = 100 \, \frac{\min\left(p_1(i), p_2(i)\right)}{\max\left(p_1(i), p_2(i)\right)};$$
#
# a cluster is *common* for the vowel when both shares are non-zero and $s_i \ge 25$;
# $\mathrm{Sim}$ is the mean of $s_i$ over the common clusters. On the paper's own
# per-cluster table this reading gives its "All" row exactly for /ɑ/ and /i/, and within
# a point for the other vowels:

# %%
display(page_table(ov["check"], digits=1))

# %% [markdown]
# ## Per-cluster overlap, beside the paper's
#
# Our model has $k$ = {glue:text}`k` clusters; the paper's has 10. Cluster numbers are
# arbitrary in both models (k-means labels carry no meaning across fits), so row $i$ of
# ours is not the paper's cluster $i$; what can be compared is each column: how many
# common clusters a vowel has and how high their overlap is. Each cell below is
# *ours / paper* ($s_i$, %); a dash is a cluster one model does not have. The segments
# behind our shares, per corpus and vowel:

# %%
display(page_table(ov["counts"]))
display(page_table(paired_cells(ov["table"], ov["paper_clusters"], columns=ov["phones"], fmt="{:.0f}")))
plot_table_pair(ov["table"], ov["paper_clusters"][ov["phones"]], titles=(f"ours ({run}, k = {ag['k']})", "paper (k = 10)"),
                label="$s_i$ (%)", row_label=lambda c: f"cluster {c}");

# %% [markdown]
# ## Sim per vowel, and a ceiling
#
# In the paper every vowel has common clusters ({glue:text}`paper_common_lo` to
# {glue:text}`paper_common_hi` per vowel). Here {glue:text}`shared`
# ({glue:text}`common_lo` to {glue:text}`common_hi` common clusters per vowel out of
# $k$ = {glue:text}`k`); {glue:text}`spread_phrase`: on average {glue:text}`spread:.1f`
# clusters hold some of a vowel's segments in both corpora. Our $\mathrm{Sim}$ runs from {glue:text}`sim_lo:.1f` to
# {glue:text}`sim_hi:.1f` (the paper's from {glue:text}`paper_sim_lo:.1f` to
# {glue:text}`paper_sim_hi:.1f`), {glue:text}`sim_mae:.1f` points from the paper's on
# average; within 10 points of it: {glue:text}`sim_within`.
#
# What can $\mathrm{Sim}$ reach with this many segments? Two random halves of *one*
# corpus share their gestures by construction, so their $\mathrm{Sim}$ (mean over 20
# seeded halvings) is a ceiling that sampling noise alone sets; a half holds half a
# corpus's segments, so for whole corpora the ceiling is if anything higher.

# %%
display(page_table(ov["beside"].join(ov["ceiling"].drop(columns="across corpora")), digits=1))

# %% [markdown]
# Across corpora $\mathrm{Sim}$ is below the within-corpus ceiling by
# {glue:text}`ceiling_gap:.1f` points on average over the six vowels (from
# {glue:text}`ceiling_gap_lo:.1f` to {glue:text}`ceiling_gap_hi:.1f`; a negative value
# is above the ceiling). With shares estimated from tens of segments per vowel, values in
# the 60s to 80s are what identical gesture distributions give, and only the part of a
# value below the ceiling says that the corpora differ. The paper gives no such reference
# for its values.
#
# ## Emotion-specific overlap, beside the paper's
#
# Within an emotion, the shares $p_c(i)$ are computed over that emotion's segments only;
# the cluster model is the same. Cells are *ours / paper* ($\mathrm{Sim}$, %; a dash: no
# common cluster).

# %%
display(page_table(paired_cells(ov["emotion"], ov["paper_emotions"], columns=ov["phones"], fmt="{:.0f}")))
plot_table_pair(ov["emotion"].reindex(ov["paper_emotions"].index), ov["paper_emotions"][ov["phones"]], vmin=40,
                titles=(f"ours ({run})", "paper"), label=r"$\mathrm{Sim}$ (%)")
plt.show()
display(page_table(ov["best"]))

# %% [markdown]
# Averaged over the vowels that have a common cluster, our highest emotion-specific
# overlap is **{glue:text}`best_emotion`** ({glue:text}`best_sim:.1f`) and the lowest
# **{glue:text}`worst_emotion`** ({glue:text}`worst_sim:.1f`); in the paper they are
# **{glue:text}`paper_best_emotion`** ({glue:text}`paper_best_sim:.1f`) and
# **{glue:text}`paper_worst_emotion`** ({glue:text}`paper_worst_sim:.1f`). The emotion with
# the highest overlap is the paper's for {glue:text}`n_best_agree` of 6 vowels
# ({glue:text}`best_agree`). The paper's point that some vowels overlap more under some
# emotions {glue:text}`varies_phrase`.
#
# A caution: within one emotion a vowel has only {glue:text}`cell_lo` to
# {glue:text}`cell_hi` segments per corpus here (median {glue:text}`cell_median:.0f`), so a
# share $p_c(i)$ moves by several points with a single segment, and differences of a few
# points between emotions are within that noise.
#
# ## Summary
#
# - **Cross-corpus overlap** (agrees with the paper: **{glue:text}`overlap_agrees`**): in
#   the paper every vowel has common clusters; here {glue:text}`shared`, and
#   {glue:text}`spread_phrase`. Our $\mathrm{Sim}$ values lie {glue:text}`sim_mae:.1f`
#   points from the paper's on average, and {glue:text}`ceiling_gap:.1f` points below what
#   two halves of one corpus reach.
# - **Emotion-specific overlap** (agrees: **{glue:text}`emotion_agrees`**): the paper's
#   point {glue:text}`varies_phrase`; which emotion overlaps most is the paper's for
#   {glue:text}`n_best_agree` of 6 vowels.
# - **Why they differ**: these corpora hold tens of segments per vowel and emotion where
#   the paper had hours of speech, and the model has $k$ = {glue:text}`k` clusters, not 10;
#   the ceiling shows how much of $\mathrm{Sim}$ sampling noise alone takes away.
#   [Chapter 6](ch6_ser.ipynb) anchors on the common clusters found here.
