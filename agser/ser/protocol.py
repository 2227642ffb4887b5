"""The experiment protocol: speaker-independent splits, size-matched training, one run of a method.

For a seed and a direction S->T (:func:`protocol_rows`):

- T's speakers are split into half A (unlabelled adaptation data) and half B
  (the test set), :func:`agser.ser.splits.speaker_split`;
- a cross-corpus method's labelled pool is all of S: ``val_fraction`` of S's
  speakers are held out for early stopping, the rest train;
- the upper bound T->T is evaluated by speaker-fold cross-validation over the
  whole of T: B's speakers are cut into ``ub_folds`` folds; for each fold the
  model trains on every other speaker of T (A and the other folds, with
  ``val_fraction`` of them held out for early stopping) and predicts the fold;
  the folds' predictions together cover B, the same test set as the
  cross-corpus methods';
- every model of a seed and direction trains on the **same number** of
  labelled utterances, ``n_train``: the smallest of the training sets above,
  each cut to it by a seeded draw, so that the upper bound bounds something
  (it is not handicapped by less data).

No target label is read by any model that is tested on the target: the
target's adaptation half reaches training as an
:class:`~agser.ser.data.UtteranceSet` (no labels), and the upper bound, which
is trained on labelled target speakers, never on the speakers it is tested on.
"""

from __future__ import annotations

import time

import numpy as np

from agser.errors import ParameterError
from agser.ser.splits import speaker_split

__all__ = ["protocol_rows", "estimator_params", "run_experiment", "parse_direction", "MODEL_KEYS"]

#: ``ser`` parameters that are the estimator's (:class:`agser.ser.estimator.SERClassifier`).
MODEL_KEYS = ("hidden", "n_conv", "kernel", "dropout", "max_epochs", "patience", "batch_size", "lr",
              "weight_decay", "gamma", "margin", "max_triplets", "sdtw_gamma", "normalize", "device",
              "num_workers", "threads", "finetune_lr")


def parse_direction(direction):
    """``"C->I"`` -> ``("C", "I")``.

    Examples
    --------
    >>> parse_direction("I->C")
    ('I', 'C')
    """
    parts = str(direction).split("->")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ParameterError(f"direction={direction!r} must look like 'C->I'")
    return parts[0].strip(), parts[1].strip()


def _held_out(speakers, rows, fraction, seed, salt):
    """Split ``rows`` by speaker: ``(kept, held_out)``, ``fraction`` of the speakers held out (>= 1)."""
    spk = np.asarray(speakers)[rows]
    unique = np.unique(spk)
    if unique.size < 2:
        raise ParameterError(f"{unique.size} speaker(s) in a training pool: early stopping needs a "
                             "held-out speaker and a training one")
    n = int(np.clip(round(fraction * unique.size), 1, unique.size - 1))
    held = set(np.random.default_rng([int(seed), salt]).permutation(unique)[:n])
    mask = np.isin(spk, list(held))
    return rows[~mask], rows[mask]


def protocol_rows(source, target, seed, test_fraction=0.5, val_fraction=0.2, ub_folds=2,
                  within=False):
    """The rows of every set of one seed and direction.

    Parameters
    ----------
    source, target : agser.ser.data.CorpusData
        The two corpora (``within=True``: the same corpus twice, for the upper bound).
    seed : int
    test_fraction : float
        Share of T's speakers in the test half B.
    val_fraction : float
        Share of a training pool's speakers held out for early stopping.
    ub_folds : int
        Folds of B's speakers for the upper bound.
    within : bool
        Also return the upper bound's folds (T->T).

    Returns
    -------
    dict
        ``test`` (labelled rows of T's half B), ``adapt`` (all rows of half A),
        ``train`` and ``val`` (rows of S), ``folds`` (with ``within``: list of
        ``(test_rows, train_rows, val_rows)`` of T), ``n_train``. Rows are
        positions in their corpus.

    Examples
    --------
    >>> from agser.ser.synthetic import synth_corpus
    >>> s, t = synth_corpus("a", n=48, speakers=8), synth_corpus("b", n=48, speakers=8, seed=1)
    >>> r = protocol_rows(s, t, seed=0, within=True)
    >>> len(r["train"]) == r["n_train"] == min(len(f[1]) for f in r["folds"])
    True
    """
    part = speaker_split(target.speaker, test_fraction, seed)
    b_rows = np.flatnonzero(part == "B")
    test = target.labelled_rows(part == "B")
    adapt = np.flatnonzero(part == "A")
    train, val = _held_out(source.speaker, source.labelled_rows(np.ones(len(source), bool)), val_fraction,
                           seed, 1)
    sizes = [len(train)]
    folds = []
    # The upper bound's folds are made for every direction, so that n_train is the same whether a
    # cross-corpus method or the upper bound is asked for. They are cut from *all* of the target's
    # utterances (labelled or not): a cross-corpus model's training must not depend on which
    # target utterances carry a label, not even on how many do.
    b_speakers = np.random.default_rng([int(seed), 2]).permutation(np.unique(target.speaker[b_rows]))
    k = int(np.clip(ub_folds, 1, b_speakers.size))
    for chunk in np.array_split(b_speakers, k):
        in_fold = np.isin(target.speaker, chunk)
        tr, va = _held_out(target.speaker, np.flatnonzero(~in_fold), val_fraction, seed, 3)
        folds.append((target.labelled_rows(in_fold), tr, va))
        sizes.append(len(tr))
    n_train = int(min(sizes))
    if n_train < 4:
        raise ParameterError(f"only {n_train} labelled training utterances per model: too few to train")

    def cut(rows, salt):
        if len(rows) <= n_train:
            return rows
        return np.sort(np.random.default_rng([int(seed), salt]).choice(rows, n_train, replace=False))

    out = {"test": test, "adapt": adapt, "train": cut(train, 4), "val": val, "n_train": n_train}
    if within:
        # the upper bound reads its own (within-corpus) training labels: unlabelled rows drop out here
        labelled = target.labels >= 0
        out["folds"] = [(te, cut(tr, 5 + i)[labelled[cut(tr, 5 + i)]], va[labelled[va]])
                        for i, (te, tr, va) in enumerate(folds)]
    return out


def estimator_params(ser, method, seed, coral_layers=None):
    """Keyword arguments of :class:`~agser.ser.estimator.SERClassifier` from a run's ``ser`` section."""
    from agser.ser.methods import ANCHORING

    out = {k: ser[k] for k in MODEL_KEYS}
    out.update(anchoring=ANCHORING[method], random_state=int(seed),
               coral_layers=None if coral_layers is None else [int(i) for i in coral_layers])
    return out


def _fit_predict(params, train, y, test, target=None, validation=None, blocks=None):
    from agser.ser.estimator import SERClassifier

    est = SERClassifier(**params).fit(train, y, target=target, validation=validation, blocks=blocks)
    return est, est.predict(test)


def _compact_history(h):
    return {"er": np.asarray(h["er"], np.float32), "extra": np.asarray(h["extra"], np.float32),
            "anchors": np.asarray(h["anchors"], np.int32), "triplets": np.asarray(h["triplets"], np.int32),
            "val_uar": np.asarray(h["val_uar"], np.float32), "best_epoch": int(h["best_epoch"]),
            "epochs_run": int(h["epochs_run"])}


def run_experiment(method, source, target, seed, ser, blocks=None):
    """One run of the protocol on two loaded corpora: metrics, predictions, diagnostics.

    Parameters
    ----------
    method : str
        One of :data:`agser.ser.methods.METHODS`.
    source, target : agser.ser.data.CorpusData
        For ``upper-bound`` pass the target corpus twice.
    seed : int
    ser : dict
        A run's ``ser`` section (:data:`agser.run.schema.SCHEMA`).
    blocks : agser.ser.finetune.TopBlocks, optional
        The encoder's top blocks when ``ser.finetune_top`` > 0.

    Returns
    -------
    dict
        ``uar``, ``neutral``, ``anger``, ``happy``, ``sad`` (percent),
        ``n_train`` (labelled training utterances of each model; the upper
        bound's fewest over its folds), ``n_val``, ``n_adapt``, ``n_test``, ``fit_s`` (seconds),
        ``y_true``, ``y_pred``, ``utterance_id`` (test set), ``history``
        (per step ``er``, ``extra``, ``anchors``, ``triplets``; per epoch
        ``val_uar``; ``best_epoch``, ``epochs_run``; for the upper bound the
        first fold's), ``anchors`` (the anchor summary of
        :func:`agser.ser.methods.anchor_units`), ``la_layers``,
        ``layer_weights``.
    """
    from agser.ser.data import FeatureNormalizer, utterance_means
    from agser.ser.methods import anchor_units, check_method, choose_layers, layer_coral_distance
    from agser.ser.metrics import ser_metrics

    check_method(method)
    within = method == "upper-bound"
    if within and source is not target and source.corpus != target.corpus:
        raise ParameterError("upper-bound trains and tests within one corpus")
    if not within and source.corpus == target.corpus:
        raise ParameterError(f"method {method!r} needs two different corpora")
    rows = protocol_rows(source, target, seed, ser["test_fraction"], ser["val_fraction"], ser["ub_folds"],
                         within=within)
    t0 = time.perf_counter()
    anchors, la_layers = None, None
    if within:
        params = estimator_params(ser, method, seed)
        pred = {}
        history = weights = None
        for te, tr, va in rows["folds"]:
            est, p = _fit_predict(params, target.subset(tr), target.labels[tr], target.subset(te),
                                  validation=(target.subset(va), target.labels[va]), blocks=blocks)
            pred.update(zip(te.tolist(), p.tolist()))
            if history is None:
                history, weights = est.history_, est.model_.layer_weights()
        test = rows["test"]
        y_pred = np.array([pred[i] for i in test])
        n_val = int(np.mean([len(f[2]) for f in rows["folds"]]))
        n_train = int(min(len(f[1]) for f in rows["folds"]))
    else:
        train = source.subset(rows["train"])
        y = source.labels[rows["train"]]
        validation = (source.subset(rows["val"]), source.labels[rows["val"]])
        adapt = target.subset(rows["adapt"])
        if method in ("AG", "PA", "Hard-AG", "AG-shuffled", "AG-oracle"):
            ss, ts, anchors = anchor_units(method, train.segments, adapt.segments, ser["threshold"], seed)
            train, adapt = train.with_segments(ss), adapt.with_segments(ts)
        if method == "LA":
            # the layer analysis on speaker-normalised features, as the classifier sees them
            norm = FeatureNormalizer("speaker").fit(train)
            dist = layer_coral_distance(utterance_means(train, norm.affine(train)),
                                        utterance_means(adapt, norm.affine(adapt)))
            la_layers = choose_layers(dist, ser["la_layers"], ser["la_select"]).tolist()
        params = estimator_params(ser, method, seed, coral_layers=la_layers)
        est, y_pred = _fit_predict(params, train, y, target.subset(rows["test"]),
                                   target=None if method == "source-only" else adapt,
                                   validation=validation, blocks=blocks)
        history, weights = est.history_, est.model_.layer_weights()
        test = rows["test"]
        n_val = len(rows["val"])
        n_train = len(rows["train"])
    y_true = target.labels[test]
    out = ser_metrics(y_true, y_pred)
    out.update(n_train=n_train, n_val=n_val, n_adapt=0 if within else len(rows["adapt"]),
               n_test=len(test), fit_s=time.perf_counter() - t0, y_true=y_true.tolist(),
               y_pred=np.asarray(y_pred).tolist(), utterance_id=target.utterance_id[test].tolist(),
               history=_compact_history(history), anchors=anchors, la_layers=la_layers,
               layer_weights=weights.detach().cpu().numpy().tolist())
    return out
