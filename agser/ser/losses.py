"""Losses of the anchored SER model: the soft-weighted triplet loss and CORAL.

The paper's talk gives ``L = L_ER + gamma * L_AG`` and calls L_AG a
soft-weighted triplet loss on acoustic segment embeddings that fall in common
AG clusters; everything else here is the book's documented choice:

- **distance**: squared Euclidean distance between L2-normalised segment
  embeddings, ``d(a, b) = ||a/|a| - b/|b| ||^2`` in ``[0, 4]``;
- **triplet**: ``max(0, margin + d(a, p) - d(a, n))``, default margin 0.5;
- **weighting**: each triplet is weighted by its anchor's weight (for AG the
  cross-corpus overlap ``s_i / 100`` of the anchor's cluster for the anchor's
  phone, see :func:`agser.ser.methods.ag_anchor_table`); the loss is the
  weighted mean ``sum(w * t) / sum(w)``;
- **CORAL** (Sun & Saenko 2016): ``||C_s - C_t||_F^2 / (4 d^2)`` between the
  feature covariances of a source and a target batch.
"""

from __future__ import annotations

import numpy as np
import torch

from agser.errors import ParameterError

__all__ = ["pair_distance", "weighted_triplet_loss", "coral_loss", "sample_triplets"]


def pair_distance(a, b):
    """Squared Euclidean distance of L2-normalised rows.

    Parameters
    ----------
    a, b : torch.Tensor, shape (n, d)

    Returns
    -------
    torch.Tensor, shape (n,), values in [0, 4]

    Examples
    --------
    >>> float(pair_distance(torch.tensor([[1., 0.]]), torch.tensor([[-2., 0.]]))[0])
    4.0
    """
    a = torch.nn.functional.normalize(a, dim=-1)
    b = torch.nn.functional.normalize(b, dim=-1)
    return ((a - b) ** 2).sum(-1)


def weighted_triplet_loss(anchor, positive, negative, weight=None, margin=0.5):
    """Soft-weighted triplet loss.

    Parameters
    ----------
    anchor, positive, negative : torch.Tensor, shape (n, d)
        Segment embeddings of each triplet.
    weight : torch.Tensor, shape (n,), optional
        Non-negative weight per triplet (1 when omitted).
    margin : float
        Margin in squared normalised distance units (0..4).

    Returns
    -------
    torch.Tensor, scalar
        ``sum(w * max(0, margin + d(a,p) - d(a,n))) / sum(w)``; 0 when there
        is no triplet.

    Examples
    --------
    >>> a = torch.tensor([[1., 0.]]); p = torch.tensor([[1., 0.1]]); n = torch.tensor([[0., 1.]])
    >>> float(weighted_triplet_loss(a, p, n, margin=0.5))
    0.0
    """
    if anchor.shape[0] == 0:
        return anchor.sum() * 0.0
    t = torch.relu(margin + pair_distance(anchor, positive) - pair_distance(anchor, negative))
    if weight is None:
        return t.mean()
    w = weight.to(t.dtype)
    return (w * t).sum() / w.sum().clamp_min(1e-12)


def coral_loss(source, target):
    """CORAL: squared Frobenius distance of the two covariances / (4 d^2).

    Parameters
    ----------
    source : torch.Tensor, shape (n_s, d)
    target : torch.Tensor, shape (n_t, d)

    Returns
    -------
    torch.Tensor, scalar

    Examples
    --------
    >>> x = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    >>> float(coral_loss(x, x))
    0.0
    """
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ParameterError(f"coral_loss needs (n, d) batches of one d, got "
                             f"{tuple(source.shape)} and {tuple(target.shape)}")
    d = source.shape[1]

    def cov(x):
        xc = x - x.mean(0, keepdim=True)
        return xc.T @ xc / max(x.shape[0] - 1, 1)

    return ((cov(source) - cov(target)) ** 2).sum() / (4.0 * d * d)


def sample_triplets(groups_anchor, groups_other, rng, positives=None, max_triplets=None):
    """Sample one cross-corpus triplet per anchor segment.

    Parameters
    ----------
    groups_anchor : array of int, shape (n_a,)
        Anchor-unit id (AG cluster, phone, ...) of each candidate anchor; -1 =
        not eligible.
    groups_other : array of int, shape (n_o,)
        Unit id of each segment of the *other* corpus; -1 = not eligible as
        positive (it can still be a negative).
    rng : numpy.random.Generator
    positives : array of int, shape (n_a,), optional
        A fixed positive per anchor (index into the other corpus, -1 = none),
        as Hard-AG uses; otherwise the positive is drawn uniformly among the
        other corpus' segments of the anchor's unit.
    max_triplets : int, optional
        Draw at most this many anchors (uniformly, without replacement).

    Returns
    -------
    (anchor_idx, positive_idx, negative_idx) : arrays of int
        Positives share the anchor's unit; negatives are drawn uniformly among
        other-corpus segments of a *different* unit (eligible or not).

    Examples
    --------
    >>> a, p, n = sample_triplets(np.array([0, 1, -1]), np.array([1, 0, 0, 2]),
    ...                           np.random.default_rng(0))
    >>> a.tolist(), [int(np.array([1, 0, 0, 2])[i]) for i in p]
    ([0, 1], [0, 1])
    """
    ga = np.asarray(groups_anchor)
    go = np.asarray(groups_other)
    if positives is not None:
        positives = np.asarray(positives)
        cand = np.flatnonzero((ga >= 0) & (positives >= 0))
    else:
        present = np.unique(go[go >= 0])
        cand = np.flatnonzero((ga >= 0) & np.isin(ga, present))
    if max_triplets is not None and cand.size > max_triplets:
        cand = np.sort(rng.choice(cand, size=int(max_triplets), replace=False))
    if cand.size == 0 or go.size == 0:
        empty = np.zeros(0, dtype=int)
        return empty, empty, empty
    if positives is not None:
        pos = positives[cand]
    else:
        # CSR layout of the other corpus by unit: a uniform draw per anchor.
        eligible = np.flatnonzero(go >= 0)
        order = eligible[np.argsort(go[eligible], kind="stable")]
        units, start, count = np.unique(go[order], return_index=True, return_counts=True)
        slot = np.searchsorted(units, ga[cand])
        pos = order[start[slot] + (rng.random(cand.size) * count[slot]).astype(int)]
    neg = rng.integers(0, go.size, size=cand.size)
    # Redraw the negatives that landed in the anchor's own unit; a handful of
    # rounds leaves none unless one unit holds nearly all segments.
    for _ in range(20):
        same = go[neg] == ga[cand]
        if not same.any():
            break
        neg[same] = rng.integers(0, go.size, size=int(same.sum()))
    keep = go[neg] != ga[cand]
    return cand[keep], pos[keep], neg[keep]
