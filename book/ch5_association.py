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
# Do segments that share a mouth gesture also sound alike? The paper builds a second
# cluster model on the acoustic features of the same segments, passes the segments of
# each AG cluster through it, and draws, for Happiness, Anger and Sadness, how each AG
# cluster's segments spread over the acoustic clusters. Its reading: "acoustic embeddings
# often cluster in fewer clusters within each AG cluster", i.e. AG and acoustics are
# associated.
#
# A picture of few acoustic clusters per AG cluster can arise by chance (a small AG
# cluster cannot spread far), so this chapter adds a test. Per emotion, two summary
# numbers, segment-weighted over the AG clusters: the **normalised entropy** of an AG
# cluster's distribution over the K acoustic clusters (0: all in one, 1: spread evenly),
# and **n90**, the fewest acoustic clusters that hold 90 % of an AG cluster's segments.
# The baseline shuffles the AG labels among the segments of the emotion (cluster sizes
# kept, any link to acoustics broken) many times with a fixed seed; the one-sided
# p-value is the share of shuffles at least as concentrated as the data.

# %% tags=["parameters"]
# The run whose parameters, corpora and store this page uses (`agser book --run NAME` sets it).
run = "default"
work_dir = None  # None: the run's own papermill_runs/NAME/work

# %%
from agser.run import Run

r = Run.named(run, work_dir=work_dir)
data, extract, cluster, acoustic, ser = (r.section(k) for k in ("data", "extract", "cluster", "acoustic", "ser"))
tables_dir = r.tables_dir
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from sklearn.metrics import normalized_mutual_info_score

from agser.analysis import association_table, association_test
from agser.analysis.association import fit_acoustic_clusters

t0 = time.perf_counter()
ag = r.clusters()
ac = r.acoustic_segments()
assoc = {"layer": "cmn", "k": None, "coverage": 0.9, "n_permutations": 1000, "seed": 0,
         **dict(acoustic.get("association") or {})}
k_ag = ag["k"]
k_ac = int(assoc["k"]) if assoc["k"] is not None else k_ag
layer_names = [str(n) for n in ac["layer_names"]]
layer = assoc["layer"]
layer_idx = layer_names.index(str(layer)) if str(layer) in layer_names else int(layer)
emb = ac["embeddings"][ag["segments"]["row"].to_numpy()]
ok = np.isfinite(emb).all(axis=(1, 2))
segments = ag["segments"][ok].reset_index(drop=True)
emb = emb[ok]
print(f"inputs ready in {time.perf_counter() - t0:.1f} s (cached after the first build)")
display(
    Markdown(
        f"Encoder: `{acoustic.get('encoder', 'logmel')}` ({len(layer_names)} layers: {', '.join(layer_names)}; "
        f"{emb.shape[2]} dimensions; {ac['frame_rate']:.0f} frames/s). A segment's embedding is the mean of the "
        f"encoder frames whose centre lies inside the phone's span. {len(segments)} of the {len(ok)} clustered "
        f"segments have one ({int((~ok).sum())} lost with {len(ac['failures'])} utterances whose audio failed)."
    )
)

# %% [markdown]
# ## The acoustic cluster model, and the choice of layer
#
# k-means (k-means++, 10 restarts, each feature standardised over the segments) on
# one layer's segment embeddings. k is the AG model's unless the run sets another. The
# layer is the run's parameter; the table shows every layer so the choice can be judged:
# an acoustic model whose clusters mostly separate the two *corpora* (recording
# channel) says little about articulation, so the layer used should have a low NMI with
# the corpus and a high one with the phone.

# %%
emotions3 = ["happiness", "anger", "sadness"]
per_layer = []
labels_by_layer = {}
for i, name in enumerate(layer_names):
    model = fit_acoustic_clusters(emb[:, i], k_ac, random_state=int(assoc["seed"]))
    lab = model.predict(emb[:, i].astype(np.float64))
    labels_by_layer[name] = lab
    test = association_test(segments.assign(acoustic_cluster=lab), emotions=emotions3 + ["neutral"],
                            n_acoustic=k_ac, coverage=float(assoc["coverage"]), n_permutations=200,
                            random_state=int(assoc["seed"]))
    per_layer.append({
        "layer": name,
        "NMI with corpus": normalized_mutual_info_score(segments["corpus"], lab),
        "NMI with phone": normalized_mutual_info_score(segments["ipa"], lab),
        "NMI with AG cluster": normalized_mutual_info_score(segments["cluster"], lab),
        "entropy (all)": test.loc["all", "entropy"],
        "entropy, shuffled (all)": test.loc["all", "entropy_null"],
        "p (all, 200 shuffles)": test.loc["all", "p_entropy"],
    })
per_layer = pd.DataFrame(per_layer).set_index("layer")
display(per_layer.round(3))
segments["acoustic_cluster"] = labels_by_layer[layer_names[layer_idx]] + 1
best_phone = per_layer["NMI with phone"].idxmax()
most_corpus = per_layer["NMI with corpus"].idxmax()
display(Markdown(
    f"Used below: layer **{layer_names[layer_idx]}**, k = {k_ac} acoustic clusters (AG model: k = {k_ag}). "
    f"On this run the layer whose acoustic clusters follow the phone most is **{best_phone}** "
    f"(NMI {per_layer.loc[best_phone, 'NMI with phone']:.3f}), and the one most split by corpus is **{most_corpus}** "
    f"(NMI with corpus {per_layer.loc[most_corpus, 'NMI with corpus']:.3f}). "
    + (f"With {int((per_layer['p (all, 200 shuffles)'] < 0.05).sum())} of {len(per_layer)} layers the AG clusters "
    f"are significantly (p < 0.05, 200 shuffles) more concentrated over the acoustic clusters than shuffled AG "
    f"clusters are, so the conclusion below does not hang on the choice of layer alone."
    if (per_layer['p (all, 200 shuffles)'] < 0.05).all() else
    f"With {int((per_layer['p (all, 200 shuffles)'] < 0.05).sum())} of {len(per_layer)} layers the AG clusters "
    f"are significantly (p < 0.05, 200 shuffles) more concentrated than shuffled ones: the conclusion below "
    f"depends on the layer.")))

# %% [markdown]
# ## Each AG cluster over the acoustic clusters: Happiness, Anger, Sadness
#
# One bar per AG cluster, split by the share of its segments in each acoustic cluster
# (colours); the number above a bar is its segment count.

# %%
cmap = plt.get_cmap("tab20" if k_ac > 10 else "tab10")
fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
for ax, emotion in zip(axes, emotions3):
    sub = segments[segments["emotion"] == emotion]
    table = association_table(sub["cluster"], sub["acoustic_cluster"]).reindex(
        index=range(1, k_ag + 1), columns=range(1, k_ac + 1)).fillna(0.0)
    sizes = sub["cluster"].value_counts().reindex(range(1, k_ag + 1), fill_value=0)
    bottom = np.zeros(k_ag)
    for j, c in enumerate(table.columns):
        ax.bar(table.index, table[c], bottom=bottom, color=cmap(j % cmap.N), label=f"A{c}")
        bottom += table[c].to_numpy()
    for x, n in sizes.items():
        ax.text(x, 101, str(n), ha="center", fontsize=7)
    ax.set_title(f"({'abc'[emotions3.index(emotion)]}) {emotion.capitalize()}")
    ax.set_xlabel("AG cluster")
    ax.set_xticks(range(1, k_ag + 1))
axes[0].set_ylabel("% of the AG cluster's segments")
axes[-1].legend(title="acoustic", fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The test against shuffled AG clusters

# %%
result = association_test(
    segments, emotions=emotions3 + ["neutral"], n_acoustic=k_ac, coverage=float(assoc["coverage"]),
    n_permutations=int(assoc["n_permutations"]), random_state=int(assoc["seed"]),
)
display(result.astype(float).round(4))

# %% [markdown]
# Both cluster models could split the segments by corpus (the corpora differ in face
# geometry and recording channel), and a shared corpus split alone would make AG and
# acoustic clusters look associated. A stricter baseline shuffles the AG labels only
# within each (emotion, corpus) block, so it keeps that split, and asks whether the
# association goes beyond it.

# %%
strict = association_test(
    segments, emotions=emotions3 + ["neutral"], n_acoustic=k_ac, coverage=float(assoc["coverage"]),
    n_permutations=int(assoc["n_permutations"]), random_state=int(assoc["seed"]), shuffle_within=("corpus",),
)
display(strict[["entropy", "entropy_null", "entropy_null_sd", "p_entropy", "n_cover", "n_cover_null", "p_n_cover"]]
        .astype(float).round(4))

# %%
lines = []
present = [e for e in emotions3 if result.loc[e, "n_segments"] > 0]
for e in present:
    r = result.loc[e]
    lines.append(
        f"- **{e.capitalize()}** ({int(r['n_segments'])} segments): mean normalised entropy {r['entropy']:.3f} "
        f"against {r['entropy_null']:.3f} ± {r['entropy_null_sd']:.3f} for shuffled AG clusters (p = {r['p_entropy']:.3g}); "
        f"an AG cluster needs {r['n_cover']:.2f} acoustic clusters for {float(assoc['coverage']):.0%} of its segments, "
        f"against {r['n_cover_null']:.2f} shuffled (p = {r['p_n_cover']:.3g})."
    )
alpha = 0.05
sig = [e for e in present if result.loc[e, "p_entropy"] < alpha]
sig_n = [e for e in present if result.loc[e, "p_n_cover"] < alpha]
display(Markdown("\n".join(lines)))
display(
    Markdown(
        f"With {int(assoc['n_permutations'])} shuffles the smallest attainable p-value is "
        f"{1 / (1 + int(assoc['n_permutations'])):.4f}. By the entropy, the association is significant at {alpha} for "
        f"**{len(sig)} of {len(present)}** emotions"
        + (f" ({', '.join(sig)})" if sig else "")
        + f"; by n90, the coarser count, for {len(sig_n)} of {len(present)}"
        + (f" ({', '.join(sig_n)})" if sig_n else "")
        + ". "
        + ("This agrees with the paper's reading: AG clusters sit in fewer acoustic clusters than chance would put them. "
           if present and len(sig) == len(present) else
           "Where it is not significant, the paper's reading does not hold on this run. ")
        + f"The effect size matters as much as the p-value: the entropy drops from the shuffled "
        f"{result.loc['all', 'entropy_null']:.3f} to {result.loc['all', 'entropy']:.3f} over all four emotions, "
        f"and an AG cluster needs {result.loc['all', 'n_cover']:.2f} rather than {result.loc['all', 'n_cover_null']:.2f} "
        f"acoustic clusters for 90 % of its segments; the paper draws the panels but gives no number to compare with."
    )
)
sig_strict = [e for e in present if strict.loc[e, "p_entropy"] < alpha]
display(Markdown(
    f"Against the stricter, within-corpus shuffle the entropy is significant for **{len(sig_strict)} of "
    f"{len(present)}** emotions" + (f" ({', '.join(sig_strict)})" if sig_strict else "")
    + f"; over all four emotions the shuffled entropy is {strict.loc['all', 'entropy_null']:.3f} "
    f"(observed {strict.loc['all', 'entropy']:.3f}, p = {strict.loc['all', 'p_entropy']:.3g}). "
    + ("So the association is not only a shared corpus effect."
       if strict.loc["all", "p_entropy"] < alpha else
       "So on this run the association cannot be told apart from a corpus effect shared by both cluster models.")))
Path(tables_dir).mkdir(parents=True, exist_ok=True)
strict.to_csv(Path(tables_dir) / "ag_acoustic_association_within_corpus.csv")
result.to_csv(Path(tables_dir) / "ag_acoustic_association.csv")
per_layer.to_csv(Path(tables_dir) / "ag_acoustic_layers.csv")
