"""The paper's analyses: cluster sanity check, cross-corpus overlap (Sim),
emotion-specific overlap, AG-acoustic association, and the paper's tables."""

from agser.analysis.association import (
    association_summary,
    association_table,
    association_test,
    cluster_spread,
)
from agser.analysis.overlap import cluster_overlap, cluster_shares, emotion_overlap
from agser.analysis.paper import PAPER_TABLES, paper_table, side_by_side
from agser.analysis.sanity import (
    SANITY_PANELS,
    VISEME_CLASSES,
    choose_sanity_clusters,
    cluster_agreement,
    plot_centres,
    plot_sanity,
    purity,
    trajectories,
    viseme_of,
)

__all__ = [
    "association_summary",
    "association_table",
    "association_test",
    "cluster_spread",
    "cluster_overlap",
    "cluster_shares",
    "emotion_overlap",
    "PAPER_TABLES",
    "paper_table",
    "side_by_side",
    "SANITY_PANELS",
    "VISEME_CLASSES",
    "choose_sanity_clusters",
    "cluster_agreement",
    "plot_centres",
    "plot_sanity",
    "purity",
    "trajectories",
    "viseme_of",
]
