"""Evaluation figures: UAR over the four categories and per-emotion figures.

Definitions (the paper states neither; these are the book's):

- **UAR** (unweighted average recall, balanced accuracy): the mean over the
  four classes of the class recall ``TP_c / (TP_c + FN_c)``; chance is 25 %.
- **Per-emotion figure**: the *one-vs-rest binary UAR* of emotion ``c``:
  ``(recall_c + specificity_c) / 2`` with ``specificity_c = TN_c / (TN_c +
  FP_c)``, i.e. the balanced accuracy of the binary decision "c or not c"
  read off the four-class prediction; chance is 50 %. The paper's
  per-emotion numbers (63-89 %) are far above its four-class UAR (53-66 %),
  which a per-class recall (whose mean *is* the UAR) cannot be, so the paper
  must have used a binary, one-vs-rest measure; binary UAR is the one that
  is not inflated by the 3:1 class imbalance of one-vs-rest accuracy.

All figures are in percent.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["SER_CLASSES", "COLUMN_NAMES", "confusion", "uar", "per_class_recall",
           "binary_uar", "ser_metrics"]

#: The four categories, in label-index order.
SER_CLASSES = ("neutral", "anger", "happiness", "sadness")
#: Results-table column for each class (the paper's table headers).
COLUMN_NAMES = {"neutral": "neutral", "anger": "anger", "happiness": "happy", "sadness": "sad"}


def confusion(y_true, y_pred, n_classes=4):
    """Confusion matrix, rows = true class, columns = predicted class.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,)
        Class indices in ``range(n_classes)``.
    n_classes : int

    Returns
    -------
    numpy.ndarray of int, shape (n_classes, n_classes)

    Examples
    --------
    >>> confusion([0, 1, 1], [0, 1, 0], n_classes=2).tolist()
    [[1, 0], [1, 1]]
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ParameterError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ParameterError(f"{name} holds a label outside 0..{n_classes - 1}")
    m = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def per_class_recall(y_true, y_pred, n_classes=4):
    """Recall of each class in percent (NaN for a class absent from ``y_true``).

    Examples
    --------
    >>> per_class_recall([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2).tolist()
    [50.0, 100.0]
    """
    m = confusion(y_true, y_pred, n_classes)
    support = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * np.diag(m) / np.where(support > 0, support, np.nan)


def uar(y_true, y_pred, n_classes=4):
    """Unweighted average recall (balanced accuracy) in percent.

    The mean of the per-class recalls over the classes present in ``y_true``.

    Examples
    --------
    >>> uar([0, 0, 0, 0, 1, 2, 3, 3], [0, 0, 0, 1, 1, 0, 3, 2])
    56.25
    """
    return float(np.nanmean(per_class_recall(y_true, y_pred, n_classes)))


def binary_uar(y_true, y_pred, n_classes=4):
    """One-vs-rest binary UAR of each class, in percent.

    ``(recall_c + specificity_c) / 2``, with the four-class prediction read
    as "c" or "not c".

    Examples
    --------
    >>> binary_uar([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2).tolist()
    [75.0, 75.0]
    """
    m = confusion(y_true, y_pred, n_classes).astype(float)
    n = m.sum()
    tp = np.diag(m)
    fn = m.sum(axis=1) - tp
    fp = m.sum(axis=0) - tp
    tn = n - tp - fn - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = tp / (tp + fn)
        spec = tn / (tn + fp)
    return 100.0 * (rec + spec) / 2.0


def ser_metrics(y_true, y_pred):
    """The results-table figures of one run: ``uar`` and one binary UAR per emotion.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,)
        Indices into :data:`SER_CLASSES`.

    Returns
    -------
    dict
        ``{"uar", "neutral", "anger", "happy", "sad"}``, percent.

    Examples
    --------
    >>> r = ser_metrics([0, 1, 2, 3], [0, 1, 2, 3])
    >>> r["uar"], r["happy"]
    (100.0, 100.0)
    """
    out = {"uar": uar(y_true, y_pred, 4)}
    for name, value in zip(SER_CLASSES, binary_uar(y_true, y_pred, 4)):
        out[COLUMN_NAMES[name]] = float(value)
    return out
