"""Soft-DTW and time-series k-means of mouth-gesture segments.

- :func:`soft_dtw` (two series), :func:`soft_dtw_batch` (many pairs, with
  gradients), :func:`soft_dtw_pairwise` (all pairs of two datasets),
  :class:`SoftDTWLoss` (a differentiable torch module): batched PyTorch
  soft-DTW, exact (tslearn's values to float64 rounding), CPU or CUDA.
- compiled numba kernels of the same soft-DTW (``agser.clustering._soft_dtw_numba``;
  CPU, float64, pairs over threads), chosen by ``backend="auto"`` on the CPU
  (:func:`resolve_backend`).
- :class:`SoftDTWKMeans`: a scikit-learn estimator, tslearn-style k-means under
  soft-DTW; :class:`NotFittedError` when it is used before ``fit``.
- :func:`fit_k_range`, :func:`choose_k_elbow`, :func:`plot_elbow`: choosing k.
"""

from agser.clustering._soft_dtw import (
    SoftDTWLoss,
    resolve_backend,
    soft_dtw,
    soft_dtw_batch,
    soft_dtw_grad,
    soft_dtw_pairwise,
    to_padded,
)
from agser.clustering.elbow import choose_k_elbow, fit_k_range, plot_elbow
from agser.clustering.kmeans import NotFittedError, SoftDTWKMeans, resample_series

__all__ = [
    "NotFittedError",
    "SoftDTWKMeans",
    "SoftDTWLoss",
    "choose_k_elbow",
    "fit_k_range",
    "plot_elbow",
    "resample_series",
    "resolve_backend",
    "soft_dtw",
    "soft_dtw_batch",
    "soft_dtw_grad",
    "soft_dtw_pairwise",
    "to_padded",
]
