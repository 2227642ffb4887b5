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
# # 5 AG-acoustic association
#
# ## Overview
#
# Do segments that share a mouth gesture also sound alike? The paper builds a second
# cluster model on the acoustic features of the same segments, passes the segments of
# each AG cluster through it, and draws, for happiness, anger and sadness, how each AG
# cluster's segments spread over the acoustic clusters. Its reading: "acoustic embeddings
# often cluster in fewer clusters within each AG cluster", that is, gestures and their
# acoustics are associated. A picture of few acoustic clusters per AG cluster can arise by
# chance (a small AG cluster cannot spread far), so this chapter adds a test.
#
# 1. The acoustic cluster model, and the choice of encoder layer
# 2. The paper's figure: each AG cluster over the acoustic clusters
# 3. The test against shuffled AG clusters
# 4. A stricter test: shuffling within each corpus
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [AG clustering](ch3_clustering.ipynb) | Necessary | the AG clusters |
# | [Cross-corpus overlap](ch4_overlap.ipynb) | Helpful | the other view of the same clusters |
# | Entropy, permutation tests | Helpful | the summary numbers and their baseline |
# | Normalised mutual information (NMI) | Helpful | 0: independent labels, 1: the same partition |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
from IPython.display import display

from agser.analysis.association import association_display, association_findings
from agser.analysis.glance import association_row
from agser.plot import book_style, glue_values, page_table, plot_association
from agser.run import Run

book_style()
r = Run.named(run, work_dir=work_dir)
a = r.ag_acoustic_association()
drawn = ["happiness", "anger", "sadness"]
r.save_table("ag_acoustic_association", a["result"], index=True)
r.save_table("ag_acoustic_association_within_corpus", a["strict"], index=True)
r.save_table("ag_acoustic_layers", a["per_layer"], index=True)
f = association_findings(a["result"], a["strict"], a["per_layer"], drawn, a["params"]["n_permutations"])
glue_values({**f, **{k: a[k] for k in ("layer", "k_ag", "k_acoustic", "n_clustered", "n_failed_utterances")},
             "n_segments": len(a["segments"]), "n_lost": a["n_clustered"] - len(a["segments"]),
             "encoder": r.params["acoustic"]["encoder"], "n_layers_enc": len(a["per_layer"]),
             "n_permutations": a["params"]["n_permutations"], "coverage_pct": 100 * a["params"]["coverage"],
             "agrees": association_row(f)["agrees"]})

# %% [markdown]
# ## The acoustic cluster model, and the choice of layer
#
# A segment's embedding is the mean of the encoder frames (encoder {glue:text}`encoder`,
# {glue:text}`n_layers_enc` layers) whose centre lies inside the phone's span;
# {glue:text}`n_segments` of the {glue:text}`n_clustered` clustered segments have one
# ({glue:text}`n_lost` lost with {glue:text}`n_failed_utterances` utterances whose audio
# failed). The acoustic model is k-means (k-means++, 10 restarts, each feature
# standardised over the segments) on one layer's embeddings, with $k$ =
# {glue:text}`k_acoustic` (the AG model has {glue:text}`k_ag`). An acoustic model whose
# clusters mostly separate the two *corpora* (the recording channel) says little about
# articulation, so the table shows every layer: the one used should have a low NMI with
# the corpus and a high one with the phone. The last three columns are the test of the
# next sections on each layer, with 200 shuffles.

# %%
display(page_table(a["per_layer"], digits=3))

# %% [markdown]
# Used below: layer **{glue:text}`layer`** (`acoustic.association.layer`). The layer whose
# acoustic clusters follow the phone most is **{glue:text}`phone_layer`** (NMI
# {glue:text}`phone_nmi:.3f`); the one most split by corpus is
# **{glue:text}`corpus_layer`** (NMI {glue:text}`corpus_nmi:.3f`). With
# {glue:text}`n_layers_sig` of {glue:text}`n_layers` layers the AG clusters are
# significantly ($p < 0.05$) more concentrated over the acoustic clusters than shuffled
# AG clusters: the more layers agree, the less the conclusion below hangs on the choice of
# one.
#
# ## Each AG cluster over the acoustic clusters
#
# The paper's figure: one bar per AG cluster, split by the share of its segments in each
# acoustic cluster; the number above a bar is its segment count.

# %%
plot_association(a["segments"], drawn, a["k_ag"], a["k_acoustic"]);

# %% [markdown]
# ## The test against shuffled AG clusters
#
# Per emotion, two numbers summarise the figure, weighted by segments over the AG
# clusters: the **normalised entropy** of an AG cluster's distribution $p$ over the $K$
# acoustic clusters,
#
# $$H = -\frac{1}{\log K} \sum_{j=1}^{K} p_j \log p_j,$$
#
# which is 0 when all its segments fall in one acoustic cluster and 1 when they spread
# evenly, and **n90**, the fewest acoustic clusters that hold {glue:text}`coverage_pct:.0f` %
# of an AG cluster's segments. The baseline shuffles the AG labels among the segments of
# the emotion ({glue:text}`n_permutations` times, a fixed seed): cluster sizes are kept,
# any link to the acoustics is broken. The one-sided $p$ is the share of shuffles at least
# as concentrated as the data; the smallest it can be is {glue:text}`p_min:.4f`.

# %%
display(page_table(association_display(a["result"], drawn + ["neutral", "all"])))

# %% [markdown]
# By the entropy, the association is significant ($p < 0.05$) for
# **{glue:text}`n_sig` of {glue:text}`n_emotions`** emotions the paper draws
# ({glue:text}`sig`); by n90, the coarser count, for {glue:text}`n_sig_n90`
# ({glue:text}`sig_n90`). The size of the effect: over all four emotions the entropy
# drops from {glue:text}`entropy_null:.3f` (shuffled) to {glue:text}`entropy:.3f`, and an
# AG cluster needs {glue:text}`n90:.2f` rather than {glue:text}`n90_null:.2f` acoustic
# clusters for its segments. The paper draws the panels but gives no number to compare with.
#
# ## Shuffling within each corpus
#
# Both cluster models could split the segments by corpus (the corpora differ in face
# geometry and recording channel), and a shared corpus split alone would make the AG and
# acoustic clusters look associated. The stricter baseline shuffles the AG labels only
# within each (emotion, corpus) block, keeping that split.

# %%
display(page_table(association_display(a["strict"], drawn + ["neutral", "all"])))

# %% [markdown]
# Against it the entropy is significant for **{glue:text}`n_sig_strict` of
# {glue:text}`n_emotions`** emotions ({glue:text}`sig_strict`); over all four emotions the
# shuffled entropy is {glue:text}`strict_entropy_null:.3f` (observed
# {glue:text}`entropy:.3f`, $p$ = {glue:text}`strict_p:.3g`).
#
# ## Summary
#
# - **Agrees with the paper: {glue:text}`agrees`.** AG clusters sit in fewer acoustic
#   clusters than shuffled ones for {glue:text}`n_sig` of {glue:text}`n_emotions` of the
#   emotions the paper draws ({glue:text}`sig`); the within-corpus shuffle, which a shared
#   corpus effect cannot explain, leaves {glue:text}`n_sig_strict` ({glue:text}`sig_strict`).
# - **Differs**: the paper reads its panels by eye and gives no number; here the effect
#   has a size (entropy {glue:text}`entropy:.3f` against {glue:text}`entropy_null:.3f`
#   shuffled) and a test, and depends on the encoder layer.
# - **Why**: the acoustic features are the run's encoder ({glue:text}`encoder`), not the
#   paper's wav2vec 2.0, and segments of a few frames carry little acoustic detail; this
#   association is what the anchoring of [chapter 6](ch6_ser.ipynb) has to work with.
