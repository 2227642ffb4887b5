"""Soft-DTW and time-series k-means of mouth-gesture segments.

- :func:`soft_dtw` (two series), :func:`soft_dtw_batch` (many pairs, with
  gradients), :func:`soft_dtw_pairwise` (all pairs of two datasets),
  :class:`SoftDTWLoss` (a differentiable torch module): batched PyTorch
  soft-DTW, exact (tslearn's values to float64 rounding), CPU or CUDA.
- :class:`SoftDTWKMeans`: tslearn-style k-means under soft-DTW.
- :func:`fit_k_range`, :func:`choose_k_elbow`, :func:`plot_elbow`: choosing k.
"""

from agser.clustering._soft_dtw import (
    SoftDTWLoss,
    soft_dtw,
    soft_dtw_batch,
    soft_dtw_grad,
    soft_dtw_pairwise,
    to_padded,
)
from agser.clustering.elbow import choose_k_elbow, fit_k_range, plot_elbow
from agser.clustering.kmeans import SoftDTWKMeans, resample_series

__all__ = [
    "SoftDTWKMeans",
    "SoftDTWLoss",
    "choose_k_elbow",
    "fit_k_range",
    "plot_elbow",
    "resample_series",
    "soft_dtw",
    "soft_dtw_batch",
    "soft_dtw_grad",
    "soft_dtw_pairwise",
    "to_padded",
]
