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
# # 3 AG clustering and its sanity check
#
# The paper clusters the phone-bounded mouth-gesture segments of four emotions
# (neutral, anger, happiness, sadness) from both corpora with time-series k-means under
# soft-DTW, and chooses the number of clusters by the elbow of inertia against k: it
# found **10**. A sanity check then plots, for two clusters, the vowel segments'
# coordinates over frames, per corpus: /ɑ/ at the lower-mid lip point and /i/ at the
# lower-mid, right-corner and left-corner points. Its reading: the two clusters hold
# different gestures of the same vowel, while the two corpora look alike within a
# cluster.
#
# This chapter does the same on this run's segments (each a sequence of 12 outer-lip
# points, eye-aligned and in inter-pupil-distance units, flattened to 24 values per
# frame), draws the cluster centres as mouth shapes, and, where the corpora are
# simulated, compares the clusters with what the simulator knows: the phone of every
# segment and the lip posture (viseme class) it was articulated with.

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

from agser.analysis import (
    SANITY_PANELS,
    VISEME_CLASSES,
    choose_sanity_clusters,
    cluster_agreement,
    plot_centres,
    plot_sanity,
    viseme_of,
)
from agser.clustering import plot_elbow
from agser.extract import load_segments

t0 = time.perf_counter()
ag = r.clusters()
_, all_frames = load_segments(r.segments_dir())
segments = ag["segments"]
frames = [all_frames[i] for i in segments["row"]]
k, params = ag["k"], ag["params"]
print(f"AG cluster model ready in {time.perf_counter() - t0:.1f} s (cached after the first build)")

# %% [markdown]
# ## The segments clustered

# %%
counts = segments.pivot_table(index="emotion", columns="corpus", values="row", aggfunc="count", fill_value=0)
display(counts)
display(
    Markdown(
        f"{len(segments)} segments ({params['phones']}; emotions {', '.join(params['emotions']) if params['emotions'] else 'all, labelled or not'}) "
        f"from {segments['corpus'].nunique()} corpora are clustered; "
        f"{ag['n_dropped_nan']} were left out because a frame had no landmarks. "
        f"Segment lengths: median {segments['n_frames'].median():.0f} frames "
        f"(range {segments['n_frames'].min()}-{segments['n_frames'].max()})."
    )
)

# %% [markdown]
# ## Choosing k by the elbow
#
# Each k of the range is fitted with at most `cluster.elbow_max_iter` iterations, on all
# segments or, where the run sets `cluster.elbow_max_segments` (to keep the search within
# a time budget), on a seeded sub-sample of that size (the default run uses all);
# the knee rule is the clustering stage's (`agser.clustering.choose_k_elbow`). The final
# model is then fitted with the chosen k. Inertia is the mean soft-DTW of a segment to its
# centre; soft-DTW is a smoothed minimum over alignments and can be negative, so only the
# shape of the curve matters.

# %%
elbow = ag["elbow"]
plot_elbow(elbow["k"], elbow["inertia"], k_chosen=ag["k_elbow"], title=f"Elbow on {ag['n_elbow']} segments")
plt.show()
display(elbow.round(4))

override = "" if params["k"] is None else f" The run's parameters set k = {params['k']} explicitly, which is the k used below."
display(
    Markdown(
        f"The elbow of this run is at **k = {ag['k_elbow']}** (range {params['k_range'][0]}-{params['k_range'][1]}, "
        f"{ag['n_elbow']} of {len(segments)} segments); the paper found k = 10 on the full CREMA-D and "
        f"MSP-IMPROV.{override} The final model has k = {k}, fitted on {ag['n_fit']} segments "
        f"(gamma = {params['gamma']}, at most {params['max_iter']} iterations); its inertia is "
        f"{float(ag['model'].inertia_):.4g}."
        + (" **It agrees with the paper's k.**" if k == 10 else
           f" **It differs from the paper's 10**: "
           + ("the simulated corpora have fewer speakers, sentences and segments than the real ones, "
              if data.get("source", "simulate") == "simulate" else
              f"this run has {len(segments)} segments, a tiny fraction of the paper's corpora, ")
           + "so the knee need not fall where the paper's did.")
    )
)

# %% [markdown]
# ## Sanity check: two clusters, four panels
#
# The two clusters drawn are those with the most /ɑ/ and /i/ segments in *both*
# corpora (the smallest count over corpus and vowel is maximised), so every panel has
# data. Thin lines: individual segments (at most 25 per corpus and cluster); thick
# lines with markers: their frame-wise mean (circles: first corpus, crosses: second).
# The lower-mid point (57) is drawn by its vertical coordinate (jaw and lower lip), the
# corners by their horizontal one (spreading). iBUG point 48 is the subject's right mouth
# corner (on the image's left), 54 the left one; after eye alignment x grows from the
# subject's right eye to the left eye and y grows downwards, as in the image.

# %%
pair = choose_sanity_clusters(segments, phones=("ɑ", "i"), n=2)
fig = plot_sanity(segments, frames, pair)
plt.show()

# %% [markdown]
# The paper reads its figure by eye. Here the same reading is a number per panel: the
# mean coordinate of each (corpus, cluster) group over all frames of its segments; the
# *between-cluster* gap is the difference between the two clusters (averaged over
# corpora), the *between-corpus* gap the difference between the corpora within a
# cluster (averaged over the two clusters).

# %%
from agser.analysis.sanity import trajectories

rows = []
for phone, point, coord in SANITY_PANELS:
    long = trajectories(segments, frames, phone, point, coord, pair)
    m = long.groupby(["corpus", "cluster"])["value"].mean().unstack("cluster")
    m = m.reindex(columns=pair)
    between_clusters = float((m[pair[0]] - m[pair[1]]).abs().mean())
    between_corpora = float((m.iloc[0] - m.iloc[1]).abs().mean()) if len(m) == 2 else float("nan")
    rows.append({"panel": f"/{phone}/ point {point} ({coord})",
                 "segments": long["segment"].nunique(),
                 "between clusters": between_clusters, "between corpora (same cluster)": between_corpora})
gaps = pd.DataFrame(rows).set_index("panel")
display(gaps.round(4))
judged = gaps.dropna()
n_sep = int((judged["between clusters"] > judged["between corpora (same cluster)"]).sum())
missing = [p for p in gaps.index if p not in judged.index]
display(
    Markdown(
        f"Clusters {pair[0]} and {pair[1]}: no panel has segments of both clusters in both corpora on this run, "
        f"so the check cannot be made here." if judged.empty else
        f"Clusters {pair[0]} and {pair[1]}: in **{n_sep} of {len(judged)}** panels with segments of both clusters "
        f"and both corpora, the two clusters are further apart than the two corpora within a cluster"
        + (", which is the paper's reading (distinct gestures across clusters, similar gestures across corpora)."
           if n_sep == len(judged) else
           "; where it is not, the paper's reading does not hold on this run for that panel.")
        + (f" Panels without data for every (corpus, cluster): {', '.join(missing)}." if missing else "")
    )
)

# %% [markdown]
# ## Cluster centres as mouth shapes
#
# Each centre is a soft-DTW barycentre: a short sequence of 12-point mouth shapes. A
# panel overlays its first (dotted), middle (dashed) and last frame (solid); the title gives the
# cluster's size and its most frequent vowels.

# %%
centres = np.asarray(ag["model"].cluster_centers_, dtype=float)
labels = []
for c in range(1, k + 1):
    sub = segments[segments["cluster"] == c]
    top = sub["ipa"].value_counts().head(3)
    labels.append(f"{c}: n={len(sub)}\n" + " ".join(f"/{p}/{n / max(len(sub), 1):.0%}" for p, n in top.items()))
fig = plot_centres(list(centres), ncols=min(5, k), labels=labels)
plt.show()

# %% [markdown]
# ## Do the clusters follow articulation?
#
# On simulated corpora the truth is known: every segment's phone comes from the
# simulator's own alignment (or from the aligner, on real data), and the simulator
# articulates each phone with targets for jaw opening, spreading, rounding and closure.
# We group phones into viseme (lip-posture) classes, our own choice from those targets:

# %%
display(pd.DataFrame({"viseme class": list(VISEME_CLASSES), "phones": [" ".join(v) for v in VISEME_CLASSES.values()]}).set_index("viseme class"))
agree = cluster_agreement(segments)
display(agree.round(3))
cross = pd.crosstab(segments["cluster"], viseme_of(segments["ipa"]).to_numpy(), normalize="index").mul(100)
fig, ax = plt.subplots(figsize=(6, 0.35 * k + 1.5))
im = ax.imshow(cross.to_numpy(), cmap="viridis", vmin=0, vmax=100, aspect="auto")
ax.set_xticks(range(cross.shape[1]), cross.columns, rotation=30, ha="right")
ax.set_yticks(range(cross.shape[0]), [f"cluster {c}" for c in cross.index])
fig.colorbar(im, ax=ax, label="% of the cluster's segments")
ax.set_title("Viseme classes within each AG cluster")
plt.show()

# %%
v, p = agree.loc["viseme class"], agree.loc["phone identity"]
display(
    Markdown(
        f"Against the **viseme classes** the clusters reach ARI = {v['ARI']:.3f}, NMI = {v['NMI']:.3f} and purity "
        f"{v['purity']:.1%} (shuffled clusters: {v['purity (shuffled clusters)']:.1%}); against the "
        f"**phone identity** ({int(p['n_classes'])} phones) ARI = {p['ARI']:.3f}, NMI = {p['NMI']:.3f}, purity "
        f"{p['purity']:.1%} (shuffled: {p['purity (shuffled clusters)']:.1%}). "
        + ("The clusters follow lip posture more than their sizes alone would (purity above that of shuffled "
           "clusters), " if v["purity"] > v["purity (shuffled clusters)"] else
           "The clusters follow lip posture no more than their sizes alone would (purity not above that of "
           "shuffled clusters), ")
        + f"but far from perfectly (ARI {v['ARI']:.2f} of a possible 1): as the paper says, one vowel is spread "
          "over several clusters, since a phone-bounded gesture is also shaped by coarticulation with its "
          "neighbours, by emotion and by the speaker."
    )
)
Path(tables_dir).mkdir(parents=True, exist_ok=True)
agree.to_csv(Path(tables_dir) / "cluster_agreement.csv")
ag["elbow"].to_csv(Path(tables_dir) / "elbow.csv", index=False)
