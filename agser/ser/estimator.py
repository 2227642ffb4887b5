"""The SER model as a scikit-learn classifier: mini-batches from features on disk, CPU or CUDA.

:class:`SERClassifier` trains :class:`agser.ser.model.SERModel` on a labelled
set of utterances (``fit(X, y, ...)``) and, for the anchoring methods, on an
unlabelled target set passed as ``target=``. The loss is

    L = L_ER + gamma * L_extra

with ``L_ER`` the class-weighted cross-entropy on the source mini-batch and
``L_extra`` set by ``anchoring``:

- ``"none"``: nothing (source-only, upper bound);
- ``"triplet"``: the soft-weighted triplet loss of
  :func:`agser.ser.losses.weighted_triplet_loss` on the segment embeddings of
  the step's source and target batches that carry an anchor *unit* (the
  segment tables' ``unit`` column, -1 = none, and ``weight``): a positive is a
  segment of the other corpus in the batch with the same unit, a negative one
  with another unit (AG, AG-shuffled, AG-oracle, PA);
- ``"hard"``: the same loss where a segment's positive is the segment of the
  other corpus in the batch, of the same phone (``unit``), whose mouth gesture
  is nearest under the soft-DTW divergence (Hard-AG, weight 1);
- ``"coral"``: CORAL between the source and target batches' pooled
  representations (LA; see :func:`coral_terms`), Deep CORAL's normalised
  ``||C_s - C_t||_F^2 / (4 d^2)``.

Training choices (stated in chapter 6): Adam, mini-batches of
``batch_size`` source utterances, each step also drawing a batch of target
utterances for the anchoring losses; the number of epochs is chosen by early
stopping on ``validation`` (held-out *source* speakers: the UAR after each
epoch, the best epoch's weights kept, ``patience`` epochs without gain
stop); no target label is read. Deterministic on CPU for a
``random_state``: seeded batches, ``torch.use_deterministic_algorithms``.
On CUDA the forward pass runs in mixed precision (float16 autocast with a
gradient scaler).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from agser.errors import ParameterError
from agser.ser.data import FeatureNormalizer, UtteranceDataset, collate
from agser.ser.losses import coral_loss, sample_triplets, weighted_triplet_loss
from agser.ser.metrics import uar
from agser.ser.model import SERModel, frame_mask

__all__ = ["SERClassifier", "ANCHORINGS", "resolve_device"]

#: What ``L_extra`` is, by ``anchoring``.
ANCHORINGS = ("none", "triplet", "hard", "coral")


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; others checked.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ParameterError(f"ser.device={device!r} must be 'auto', 'cpu' or 'cuda'")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"ser.device={device!r}: torch sees no CUDA device here")
    return str(device)


def _loader(dataset, batch_size, shuffle, generator, num_workers):
    return torch.utils.data.DataLoader(dataset, batch_size=int(batch_size), shuffle=shuffle,
                                       generator=generator, num_workers=int(num_workers),
                                       collate_fn=collate, persistent_workers=False)


def _batch_segments(table, index):
    """Segments of the utterances of a batch: (utt in batch, start, end, row of ``table``)."""
    index = index.numpy()
    pos = np.full(int(table["utt"].max()) + 1 if len(table) else 0, -1, dtype=int)
    pos[index[index < len(pos)]] = np.flatnonzero(index < len(pos))
    utt = table["utt"].to_numpy()
    keep = np.flatnonzero(pos[utt] >= 0) if len(pos) else np.zeros(0, int)
    return pos[utt[keep]], table["start"].to_numpy()[keep], table["end"].to_numpy()[keep], keep


class SERClassifier(ClassifierMixin, BaseEstimator):
    """Four-class SER on encoder features, with an optional cross-corpus anchoring loss.

    Parameters
    ----------
    anchoring : {"none", "triplet", "hard", "coral"}
        The extra loss (module docstring).
    hidden, n_conv, kernel, dropout
        The frame network (:class:`agser.ser.model.SERModel`).
    max_epochs : int
        Epochs at most; early stopping on ``validation`` picks the best one.
    patience : int
        Epochs without a better validation UAR before stopping.
    batch_size : int
        Source utterances per step (and target utterances per step).
    lr, weight_decay : float
        Adam.
    gamma : float
        Weight of the extra loss.
    margin : float
        Triplet margin, squared distance of unit vectors (0..4).
    max_triplets : int
        Triplets per step at most (half anchored in each corpus).
    coral_layers : sequence of int, optional
        Encoder layers whose own pooled representation LA also aligns.
    sdtw_gamma : float
        Soft-DTW smoothing of Hard-AG's gesture divergence.
    normalize : {"speaker", "utterance", "none"}
        Step 1 of :class:`agser.ser.data.FeatureNormalizer`.
    device : {"auto", "cpu", "cuda"}
    num_workers : int
        DataLoader worker processes (0: read in this process).
    threads : int
        torch CPU threads while fitting.
    finetune_lr : float
        Learning rate of fine-tuned encoder blocks (``fit(..., blocks=)``).
    random_state : int

    Attributes
    ----------
    model_ : SERModel
    classes_ : numpy.ndarray, [0, 1, 2, 3]
    normalizer_ : FeatureNormalizer
    history_ : dict
        Per step: ``er``, ``extra`` (losses), ``anchors`` (segments of the step
        with an anchor unit), ``triplets``; per epoch: ``val_uar``; and
        ``best_epoch``, ``epochs_run``, ``fit_seconds``.
    top_blocks_ : torch.nn.Module or None
        The fine-tuned encoder blocks.
    """

    def __init__(self, anchoring="none", hidden=32, n_conv=1, kernel=5, dropout=0.1, max_epochs=40,
                 patience=8, batch_size=32, lr=3e-3, weight_decay=1e-4, gamma=1.0, margin=0.5,
                 max_triplets=512, coral_layers=None, sdtw_gamma=1.0, normalize="speaker",
                 device="cpu", num_workers=0, threads=1, finetune_lr=1e-4, random_state=0):
        self.anchoring = anchoring
        self.hidden = hidden
        self.n_conv = n_conv
        self.kernel = kernel
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.gamma = gamma
        self.margin = margin
        self.max_triplets = max_triplets
        self.coral_layers = coral_layers
        self.sdtw_gamma = sdtw_gamma
        self.normalize = normalize
        self.device = device
        self.num_workers = num_workers
        self.threads = threads
        self.finetune_lr = finetune_lr
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, target=None, validation=None, blocks=None):
        """Train on labelled ``X`` (and unlabelled ``target``); returns self.

        Parameters
        ----------
        X : agser.ser.data.UtteranceSet
            Labelled training utterances (their labels are ``y``).
        y : array of int, (len(X),)
            Class indices 0..3.
        target : agser.ser.data.UtteranceSet, optional
            Unlabelled target utterances; needed unless ``anchoring="none"``.
            For ``triplet`` and ``hard`` both segment tables carry ``unit`` and
            ``weight``.
        validation : (UtteranceSet, array of int), optional
            Held-out labelled *source* utterances for early stopping; without
            it every epoch up to ``max_epochs`` is run and the last kept.
        blocks : agser.ser.finetune.TopBlocks, optional
            Encoder blocks to fine-tune (a copy is trained); the sets then
            carry ``block_input``.
        """
        self._check_params(X, target)
        y = np.asarray(y, dtype=int)
        if len(y) != len(X) or len(y) == 0:
            raise ParameterError(f"fit got {len(X)} utterances and {len(y)} labels")
        if y.min() < 0 or y.max() > 3:
            raise ParameterError("fit: labels must be class indices 0..3 (unlabelled utterances left out)")
        for name in ("model_", "history_", "normalizer_", "top_blocks_", "classes_"):
            if hasattr(self, name):
                delattr(self, name)
        device = resolve_device(self.device)
        det, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
        torch.use_deterministic_algorithms(device == "cpu")
        torch.set_num_threads(int(self.threads))
        t0 = time.perf_counter()
        try:
            self._fit(X, y, target, validation, blocks, device)
        finally:
            torch.use_deterministic_algorithms(det)
            torch.set_num_threads(threads)
        self.history_["fit_seconds"] = time.perf_counter() - t0
        self.classes_ = np.arange(4)
        return self

    def _check_params(self, X, target):
        if self.anchoring not in ANCHORINGS:
            raise ParameterError(f"anchoring={self.anchoring!r} must be one of {', '.join(ANCHORINGS)}")
        if self.anchoring != "none" and target is None:
            raise ParameterError(f"anchoring={self.anchoring!r} needs the unlabelled target= set")
        if self.anchoring in ("triplet", "hard") and target is not None:
            for name, s in (("X", X), ("target", target)):
                if not {"unit", "weight"} <= set(s.segments.columns):
                    raise ParameterError(f"anchoring={self.anchoring!r}: {name}.segments needs 'unit' and "
                                         "'weight' columns (agser.ser.methods.anchor_units)")
        for name in ("max_epochs", "batch_size", "hidden", "patience"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"{name}={getattr(self, name)!r} must be >= 1")

    def _fit(self, X, y, target, validation, blocks, device):
        torch.manual_seed(int(self.random_state))
        rng = np.random.default_rng(int(self.random_state) + 7919)
        gen = torch.Generator().manual_seed(int(self.random_state))
        self.normalizer_ = FeatureNormalizer(self.normalize).fit(X)
        self._affine = {"X": self.normalizer_.affine(X)}
        train = UtteranceDataset(X, self._affine["X"], labels=y)
        first = train[0]["x"]
        n_layers, dim = first.shape[0], first.shape[2]
        model = SERModel(n_layers, dim, hidden=self.hidden, n_conv=self.n_conv, kernel=self.kernel,
                         dropout=self.dropout).to(device)
        blocks = copy.deepcopy(blocks).to(device) if blocks is not None else None
        groups = [{"params": model.parameters()}]
        if blocks is not None:
            groups.append({"params": blocks.parameters(), "lr": self.finetune_lr})
        opt = torch.optim.Adam(groups, lr=self.lr, weight_decay=self.weight_decay)
        counts = np.bincount(y, minlength=4).astype(float)
        cw = torch.as_tensor(np.where(counts > 0, counts.sum() / (4 * np.maximum(counts, 1)), 0.0),
                             dtype=torch.float32, device=device)
        amp = device.startswith("cuda")
        scaler = torch.amp.GradScaler("cuda") if amp else None
        src_loader = _loader(train, self.batch_size, True, gen, self.num_workers)
        tgt_iter = None
        if self.anchoring != "none":
            self._affine["target"] = self.normalizer_.affine(target)
            tset = UtteranceDataset(target, self._affine["target"])
            # a generator of its own: with worker processes the loaders draw in another order,
            # and a shared generator would make results depend on num_workers
            tgt_loader = _loader(tset, self.batch_size, True,
                                 torch.Generator().manual_seed(int(self.random_state) + 1), self.num_workers)
            tgt_iter = _Cycle(tgt_loader)
        hard = _HardPositives(X, target, self.sdtw_gamma, seed=self.random_state) \
            if self.anchoring == "hard" else None
        val = None
        if validation is not None:
            vset, vy = validation
            self._affine["validation"] = self.normalizer_.affine(vset)
            val = (_loader(UtteranceDataset(vset, self._affine["validation"], labels=vy),
                           max(self.batch_size, 64), False, None, self.num_workers), vset)
        hist = {"er": [], "extra": [], "anchors": [], "triplets": [], "val_uar": []}
        best, best_state, since = -np.inf, None, 0
        for epoch in range(int(self.max_epochs)):
            model.train()
            if blocks is not None:
                blocks.train()
            for batch in src_loader:
                tb = next(tgt_iter) if tgt_iter is not None else None
                with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                    er, extra, n_anchor, n_trip = self._step(model, blocks, batch, tb, X, target, cw, rng,
                                                             hist, hard, device)
                    total = er + self.gamma * extra if self.anchoring != "none" else er
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(total).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    total.backward()
                    opt.step()
                hist["er"].append(float(er.detach()))
                hist["extra"].append(float(extra.detach()))
                hist["anchors"].append(int(n_anchor))
                hist["triplets"].append(int(n_trip))
            if val is not None:
                score = self._score_loader(model, blocks, val[0], val[1], "validation", device)
                hist["val_uar"].append(score)
                if score > best:
                    best, since = score, 0
                    best_state = (copy.deepcopy(model.state_dict()),
                                  copy.deepcopy(blocks.state_dict()) if blocks is not None else None,
                                  epoch)
                else:
                    since += 1
                    if since >= int(self.patience):
                        break
        hist["epochs_run"] = epoch + 1
        if best_state is not None:
            model.load_state_dict(best_state[0])
            if blocks is not None:
                blocks.load_state_dict(best_state[1])
            hist["best_epoch"] = best_state[2] + 1
        else:
            hist["best_epoch"] = epoch + 1
        self.model_ = model.eval()
        self.top_blocks_ = blocks.eval() if blocks is not None else None
        self.history_ = hist
        self._affine = {}
        self.normalizer_._fitted = None  # the training set's per-utterance statistics are not kept

    # -------------------------------------------------------------- a step
    def _inputs(self, model, blocks, batch, uset, which, device):
        x, n = batch["x"].to(device), batch["lengths"].to(device)
        if blocks is not None:
            x = self._with_blocks(x, n, blocks, batch, uset, which, device)
        return x, n

    def _step(self, model, blocks, batch, tb, X, target, cw, rng, hist, hard, device):
        xs, ls = self._inputs(model, blocks, batch, X, "X", device)
        logits, hs = model(xs, ls)
        er = torch.nn.functional.cross_entropy(logits.float(), batch["labels"].to(device), weight=cw)
        extra = torch.zeros((), device=device)
        n_anchor = n_trip = 0
        if self.anchoring in ("triplet", "hard"):
            xt, lt = self._inputs(model, blocks, tb, target, "target", device)
            ht = model.frames(xt, lt)[-1]
            ss, ts = _batch_segments(X.segments, batch["index"]), _batch_segments(target.segments, tb["index"])
            es = SERModel.segment_embeddings(hs[-1], *(torch.as_tensor(v, device=device) for v in ss[:3]))
            et = SERModel.segment_embeddings(ht, *(torch.as_tensor(v, device=device) for v in ts[:3]))
            us = X.segments["unit"].to_numpy()[ss[3]]
            ut = target.segments["unit"].to_numpy()[ts[3]]
            ws = X.segments["weight"].to_numpy()[ss[3]]
            wt = target.segments["weight"].to_numpy()[ts[3]]
            fs = ft = None
            if hard is not None:
                fs = hard.positives(ss[3], ts[3], us, ut, source_first=True)
                ft = hard.positives(ts[3], ss[3], ut, us, source_first=False)
            half = max(1, int(self.max_triplets) // 2)
            a, p, q = sample_triplets(us, ut, rng, positives=fs, max_triplets=half)
            b, r, m = sample_triplets(ut, us, rng, positives=ft, max_triplets=half)
            n_anchor = int((us >= 0).sum() + (ut >= 0).sum())
            n_trip = len(a) + len(b)
            idx = [torch.as_tensor(v, dtype=torch.long, device=device) for v in (a, p, q, b, r, m)]
            w = torch.as_tensor(np.concatenate([ws[a], wt[b]]), dtype=torch.float32, device=device)
            extra = weighted_triplet_loss(torch.cat([es[idx[0]], et[idx[3]]]).float(),
                                          torch.cat([et[idx[1]], es[idx[4]]]).float(),
                                          torch.cat([et[idx[2]], es[idx[5]]]).float(), w, margin=self.margin)
        elif self.anchoring == "coral":
            xt, lt = self._inputs(model, blocks, tb, target, "target", device)
            terms = coral_terms(model, xs, ls, xt, lt, self.coral_layers, source_frames=hs[-1])
            # Deep CORAL's loss (Sun & Saenko 2016), ||C_s - C_t||_F^2 / (4 d^2), weighted by gamma
            # as every method's extra loss is. Rescaling it to L_ER's size (at the first step, or
            # at every step) makes its trivial minimum, a representation collapsed to a constant,
            # win over L_ER: the model then predicts one class (tests/test_ser.py shows it).
            extra = torch.stack(terms).mean()
            n_anchor = n_trip = len(lt)
        return er, extra, n_anchor, n_trip

    # ------------------------------------------------------ fine-tuned blocks
    def _with_blocks(self, x, lengths, blocks, batch, uset, which, device):
        """``x`` with its top layers recomputed by the fine-tuned blocks, normalised as the frozen ones.

        The frozen features' normalisation (per speaker, then global) is kept
        fixed, so training starts from exactly the frozen model's input.
        """
        idx = batch["index"].numpy()
        shift, scale = self._affine[which].take(idx)
        k = blocks.n_layers - blocks.n
        top = blocks(batch["block"].to(device), batch["block_lengths"].to(device))
        # a batch's longest utterance after pooling may differ by a frame from the block output
        T = x.shape[2]
        top = torch.nn.functional.pad(top, (0, 0, 0, max(0, T - top.shape[2])))[:, :, :T]
        sh = torch.as_tensor(shift[:, k:, None, :], device=device)
        sc = torch.as_tensor(scale[:, k:, None, :], device=device)
        top = (top - sh) / sc
        top = top * frame_mask(lengths, T).to(top.dtype)[:, None, :, None]
        return torch.cat([x[:, :k], top.to(x.dtype)], 1)

    # -------------------------------------------------------------- predict
    def _score_loader(self, model, blocks, loader, uset, which, device):
        probs, labels = self._proba_loader(model, blocks, loader, uset, which, device)
        return uar(labels, probs.argmax(1))

    def _proba_loader(self, model, blocks, loader, uset, which, device):
        model.eval()
        if blocks is not None:
            blocks.eval()
        out, labels = [], []
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16, enabled=device.startswith("cuda")):
            for batch in loader:
                x, n = self._inputs(model, blocks, batch, uset, which, device)
                logits, _ = model(x, n)
                out.append(torch.softmax(logits.float(), 1).cpu().numpy())
                labels.append(batch["labels"].numpy())
        model.train()
        return np.concatenate(out), np.concatenate(labels)

    def predict_proba(self, X):
        """Class probabilities, (len(X), 4)."""
        check_is_fitted(self, "model_")
        device = str(next(self.model_.parameters()).device)
        self._affine = {"predict": self.normalizer_.affine(X)}
        loader = _loader(UtteranceDataset(X, self._affine["predict"]), max(self.batch_size, 64), False, None,
                         self.num_workers)
        try:
            probs, _ = self._proba_loader(self.model_, self.top_blocks_, loader, X, "predict", device)
        finally:
            self._affine = {}
        return probs

    def predict(self, X):
        """Class index of each utterance, (len(X),)."""
        return self.predict_proba(X).argmax(1)


def coral_terms(model, xs, ls, xt, lt, layers=None, source_frames=None):
    """LA's CORAL terms between a source and a target batch.

    The representation the classifier uses (the attentively pooled top frame
    features) is aligned, and, for each chosen encoder layer ``l``, the same
    network's pooled representation of that layer alone (the layer-similarity
    analysis on speaker-normalised features picks them,
    :func:`agser.ser.methods.choose_layers`).

    Parameters
    ----------
    source_frames : torch.Tensor, optional
        The source batch's top frame features when the step has them already.

    Returns
    -------
    list of torch.Tensor (scalars)
    """
    def pooled(x, n, layer=None, frames=None):
        h = frames if frames is not None else model.frames(x, n, layer=layer)[-1]
        return model.pool(h, n).float()

    terms = [coral_loss(pooled(xs, ls, frames=source_frames), pooled(xt, lt))]
    for layer in layers or ():
        terms.append(coral_loss(pooled(xs, ls, layer), pooled(xt, lt, layer)))
    return terms


class _Cycle:
    """Endless iteration over a loader (a new shuffled pass each time it runs out)."""

    def __init__(self, loader):
        self.loader = loader
        self.it = iter(loader)

    def __next__(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)


class _HardPositives:
    """Hard-AG's positives in a step: the nearest same-phone gesture of the other corpus' batch.

    The soft-DTW divergence of every pair of same-phone segments of the two
    sets is computed once, at the start of the fit, per phone (at most
    ``cap`` segments of a phone per side, a seeded draw, bound its memory:
    a segment left out of the draw has no positive); a step only looks the
    batch's pairs up.
    """

    def __init__(self, source, target, gamma, cap=4000, seed=0):
        from agser.clustering import soft_dtw_batch, soft_dtw_pairwise, to_padded

        rng = np.random.default_rng([int(seed), 77])
        self.tables = {}
        us, ut = source.segments["unit"].to_numpy(), target.segments["unit"].to_numpy()
        gs, gt = source.segments["gesture"].to_numpy(), target.segments["gesture"].to_numpy()

        def series(uset, g, rows):
            return [np.asarray(uset.gestures[g[r]], dtype=np.float64) for r in rows]

        def self_values(x):
            Xp, n = to_padded(x)
            return np.asarray(soft_dtw_batch(Xp, Xp, gamma=gamma, x_lengths=n, y_lengths=n))

        for unit in np.intersect1d(us[us >= 0], ut[ut >= 0]):
            ra, ro = np.flatnonzero(us == unit), np.flatnonzero(ut == unit)
            if ra.size > cap:
                ra = np.sort(rng.choice(ra, cap, replace=False))
            if ro.size > cap:
                ro = np.sort(rng.choice(ro, cap, replace=False))
            xa, xo = series(source, gs, ra), series(target, gt, ro)
            # the divergence D(x, y) = sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2 (Blondel et al. 2021)
            div = np.asarray(soft_dtw_pairwise(xa, xo, gamma=gamma)) \
                - 0.5 * (self_values(xa)[:, None] + self_values(xo)[None, :])
            self.tables[int(unit)] = ({int(r): i for i, r in enumerate(ra)}, {int(r): j for j, r in enumerate(ro)},
                                      div)

    def positives(self, rows_anchor, rows_other, units_anchor, units_other, source_first):
        """Index into ``rows_other`` of each anchor's positive (-1: no same-phone segment there)."""
        out = np.full(len(rows_anchor), -1, dtype=int)
        for unit in np.unique(units_anchor[units_anchor >= 0]):
            if int(unit) not in self.tables:
                continue
            pos_s, pos_t, div = self.tables[int(unit)]
            pos_a, pos_o = (pos_s, pos_t) if source_first else (pos_t, pos_s)
            ia = [i for i in np.flatnonzero(units_anchor == unit) if int(rows_anchor[i]) in pos_a]
            io = [j for j in np.flatnonzero(units_other == unit) if int(rows_other[j]) in pos_o]
            if not ia or not io:
                continue
            ra = [pos_a[int(rows_anchor[i])] for i in ia]
            ro = [pos_o[int(rows_other[j])] for j in io]
            sub = div[np.ix_(ra, ro)] if source_first else div[np.ix_(ro, ra)].T
            out[ia] = np.asarray(io)[np.argmin(sub, axis=1)]
        return out
