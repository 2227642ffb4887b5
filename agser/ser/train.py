"""Training and evaluation of one method, direction and seed.

Protocol (see :mod:`agser.ser.splits`): for a seed, each corpus is split by
speaker into half A and half B. A cross-corpus run ``S->T`` trains on every
labelled utterance of S and (for AG, PA, LA, Hard-AG) on the *unlabelled*
utterances of T's half A, and is tested on T's half B. The upper bound
``T->T`` trains on T's labelled half A and is tested on the same half B.

Training choices the paper leaves open (all in :class:`SERConfig`):

- optimiser Adam, learning rate ``lr`` = 3e-3, weight decay 1e-4;
- ``epochs`` = 30 full-batch steps (every training utterance in each step:
  the default corpora hold ~120 utterances each, so a step is one epoch);
- class-weighted cross-entropy (inverse source class frequency) so that the
  loss matches the UAR it is judged by;
- features z-scored per speaker (over all the speaker's frames, per layer
  and dimension; ``normalize="speaker"``, Schuller et al.'s speaker
  normalisation, standard in cross-corpus SER; it reads speaker ids, never
  emotion labels), then standardised per layer and dimension by the source
  training frames' mean and std;
- ``gamma`` = 1.0 for every extra loss (triplet or CORAL), set a priori, not
  tuned on target labels; chapter 6 sweeps it afterwards. LA's CORAL term
  (``||C_s - C_t||^2 / 4d^2``, tiny in absolute value) is first rescaled by
  Deep CORAL's rule: a constant factor that makes it equal to L_ER at the
  first step;
- triplet ``margin`` = 0.5 in squared normalised distance; at most
  ``max_triplets`` triplets per step; the 25 % overlap ``threshold``;
- no early stopping and no model selection on target data (there is no
  labelled target data to select on);
- ``finetune_top`` = 0: the encoder is frozen (the default). With a Hugging
  Face encoder (``acoustic.encoder: hf``) and ``finetune_top`` = N > 0, copies
  of the encoder's top N transformer blocks are trained with the head (Adam,
  learning rate ``finetune_lr``, same weight decay) on the cached hidden state
  that enters them (:mod:`agser.ser.finetune`); their outputs replace the top
  N cached layers, normalised with the fixed statistics of the frozen
  features, and the lower layers stay frozen. LA chooses its layers on the
  frozen features.

Everything is deterministic for a seed on CPU: ``torch.manual_seed``,
``numpy.random.default_rng(seed)`` for splits and triplets, and
``torch.use_deterministic_algorithms(True)`` while fitting.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
import torch

from agser.errors import ParameterError
from agser.ser.data import CorpusData, LabelledSet, UtteranceSet
from agser.ser.losses import coral_loss, sample_triplets, weighted_triplet_loss
from agser.ser.methods import (CROSS_METHODS, TRIPLET_METHODS, ag_units, check_method,
                               choose_layers, gesture_divergence_by_phone, hard_ag_positives,
                               layer_coral_distance, phone_units)
from agser.ser.metrics import ser_metrics
from agser.ser.model import SERModel, frame_mask, masked_mean
from agser.ser.splits import speaker_split

__all__ = ["SERConfig", "parse_direction", "fit_model", "predict", "run_experiment",
           "AnchorPlan", "anchor_plan"]


@dataclass(frozen=True)
class SERConfig:
    """Hyper-parameters of the SER model and its training (the ``ser:`` params section).

    Parameters
    ----------
    hidden : int
        Units of the trainable frame network.
    n_conv : int
        Convolution layers after the input projection.
    kernel : int
        Convolution width (frames, odd).
    dropout : float
    epochs : int
        Full-batch training steps.
    lr : float
        Adam learning rate.
    weight_decay : float
        Adam L2 weight decay.
    gamma : float
        Weight of the extra loss (L_AG, L_PA, L_hard or CORAL).
    margin : float
        Triplet margin (squared distance of unit vectors, 0..4).
    threshold : float
        Overlap ``s_i`` (percent) below which an AG cluster is left out.
    max_triplets : int
        Triplets per step at most (half from each corpus' anchors).
    la_layers : int
        Encoder layers LA aligns.
    la_select : str
        ``"least-similar"`` or ``"most-similar"`` layers for LA.
    sdtw_gamma : float
        Soft-DTW smoothing of Hard-AG's gesture divergence.
    test_fraction : float
        Share of each corpus' speakers held out as the test half B.
    normalize : str
        Before the global standardisation by the source statistics:
        ``"speaker"`` z-scores each speaker's features over all its frames
        (speaker normalisation, the usual practice of cross-corpus SER: it
        reads speaker ids, never labels); ``"utterance"`` z-scores each
        utterance on its own (removes level cues of emotion too);
        ``"none"``.
    threads : int
        Torch CPU threads while fitting (1 by default: the default model is
        tiny, more threads only contend with other work, and a fixed count
        keeps float reductions, hence results, identical between machines).
    finetune_top : int
        Top transformer blocks of a Hugging Face encoder fine-tuned with the
        head (``acoustic.encoder: hf`` with ``options.layers: all``; wav2vec2
        or HuBERT); 0 (default) keeps the encoder frozen.
    finetune_lr : float
        Adam learning rate of the fine-tuned blocks (smaller than ``lr``: the
        blocks are pretrained, the head starts from scratch).
    """

    hidden: int = 32
    n_conv: int = 1
    kernel: int = 5
    dropout: float = 0.1
    epochs: int = 30
    lr: float = 3e-3
    weight_decay: float = 1e-4
    gamma: float = 1.0
    margin: float = 0.5
    threshold: float = 25.0
    max_triplets: int = 4096
    la_layers: int = 2
    la_select: str = "least-similar"
    sdtw_gamma: float = 1.0
    test_fraction: float = 0.5
    threads: int = 1
    normalize: str = "speaker"
    finetune_top: int = 0
    finetune_lr: float = 1e-4

    @classmethod
    def from_params(cls, ser=None):
        """Build from the ``ser:`` params dict; unknown keys are a ParameterError.

        Keys that belong to the chapters, not to one training run (``seeds``,
        ``methods``, ``gamma_sweep``, ``shift_sweep``, ...), are ignored.

        Examples
        --------
        >>> SERConfig.from_params({"gamma": 0.5, "seeds": [0, 1]}).gamma
        0.5
        >>> SERConfig.from_params({"gama": 0.5})
        Traceback (most recent call last):
        ...
        agser.errors.ParameterError: ser.gama is not a parameter of the SER model; known: hidden, n_conv, kernel, dropout, epochs, lr, weight_decay, gamma, margin, threshold, max_triplets, la_layers, la_select, sdtw_gamma, test_fraction, threads, normalize, finetune_top, finetune_lr
        """
        ser = dict(ser or {})
        names = [f.name for f in fields(cls)]
        out = {}
        for key, value in ser.items():
            if key in CHAPTER_KEYS:
                continue
            if key not in names:
                raise ParameterError(f"ser.{key} is not a parameter of the SER model; known: "
                                     + ", ".join(names))
            out[key] = type(getattr(cls, key))(value)
        return cls(**out)

    def as_dict(self):
        """Field values; the fine-tuning keys only when ``finetune_top`` > 0, so that frozen runs
        keep the cache keys they had before fine-tuning existed."""
        out = asdict(self)
        if not self.finetune_top:
            out.pop("finetune_top")
            out.pop("finetune_lr")
        return out


#: ``ser:`` keys read by the chapters (run lists, sweeps), not by a training run.
CHAPTER_KEYS = ("seeds", "methods", "directions", "gamma_sweep", "shift_sweep", "sweep_seeds",
                "shift_utterances", "frame_pool")


def parse_direction(direction):
    """``"C->I"`` -> ``("C", "I")``.

    Examples
    --------
    >>> parse_direction("I->C")
    ('I', 'C')
    """
    parts = str(direction).split("->")
    if len(parts) != 2 or not all(parts):
        raise ParameterError(f"direction={direction!r} must look like 'C->I'")
    return parts[0].strip(), parts[1].strip()


def _standardiser(features, lengths):
    mask = frame_mask(torch.as_tensor(lengths), features.shape[2]).numpy()
    w = mask[:, None, :, None].astype(np.float64)
    n = w.sum((0, 2))
    mu = (features * w).sum((0, 2)) / n
    var = ((features - mu[None, :, None, :]) ** 2 * w).sum((0, 2)) / n
    return mu.astype(np.float32), np.sqrt(var + 1e-8).astype(np.float32)


def utterance_normalise(features, lengths):
    """Z-score every utterance's features over its own valid frames, per layer and dimension.

    Parameters
    ----------
    features : numpy.ndarray, shape (n, n_layers, T, dim)
    lengths : numpy.ndarray of int, shape (n,)

    Returns
    -------
    numpy.ndarray, float32, same shape; padded frames 0.

    Examples
    --------
    >>> x = np.arange(8, dtype=np.float32).reshape(1, 1, 4, 2)
    >>> utterance_normalise(x, np.array([4]))[0, 0, :, 0].astype(float).round(3).tolist()
    [-1.342, -0.447, 0.447, 1.342]
    """
    mask = (np.arange(features.shape[2])[None, :] < np.asarray(lengths)[:, None])[:, None, :, None]
    mu, sd = _utterance_stats(features, mask)
    return (((features - mu) / sd) * mask).astype(np.float32)


def _utterance_stats(features, mask):
    """Per-utterance (mean, std), each (n, n_layers, 1, dim), of :func:`utterance_normalise`."""
    n = np.maximum(mask.sum(2, keepdims=True), 1)
    mu = (features * mask).sum(2, keepdims=True) / n
    var = (((features - mu) * mask) ** 2).sum(2, keepdims=True) / n
    return mu, np.sqrt(var + 1e-6)


def speaker_normalise(features, lengths, speakers):
    """Z-score features per speaker over all that speaker's valid frames, per layer and dimension.

    Speaker normalisation (Schuller et al. 2010, cross-corpus SER): removes a
    speaker's (and a recording channel's) offsets and gains, keeps how the
    speaker's utterances differ from each other. It reads speaker ids, never
    emotion labels.

    Parameters
    ----------
    features : numpy.ndarray, shape (n, n_layers, T, dim)
    lengths : numpy.ndarray of int, shape (n,)
    speakers : array of str, shape (n,)

    Returns
    -------
    numpy.ndarray, float32, same shape; padded frames 0.

    Examples
    --------
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
    >>> speaker_normalise(x, np.array([2, 2]), np.array(["a", "a"]))[:, 0, :, 0].astype(float).round(3).tolist()
    [[-1.342, -0.447], [0.447, 1.342]]
    """
    mask = (np.arange(features.shape[2])[None, :] < np.asarray(lengths)[:, None])[:, None, :, None]
    out = np.zeros_like(features, dtype=np.float32)
    for rows, f, m, mu, sd in _speaker_stats(features, mask, speakers):
        out[rows] = ((f - mu) / sd) * m
    return out


def _speaker_stats(features, mask, speakers):
    """Yield ``(rows, features, mask, mean, std)`` of each speaker (float64) for :func:`speaker_normalise`."""
    speakers = np.asarray(speakers)
    for spk in np.unique(speakers):
        rows = speakers == spk
        f, m = features[rows].astype(np.float64), mask[rows]
        n = max(float(m.sum()), 1.0)
        mu = (f * m).sum((0, 2), keepdims=True) / n
        var = (((f - mu) * m) ** 2).sum((0, 2), keepdims=True) / n
        yield rows, f, m, mu, np.sqrt(var + 1e-6)


def _prepare_affine(features, lengths, speakers, config):
    """Per-utterance ``(shift, scale)``, each float32 (n, n_layers, 1, dim), of :func:`_prepare`.

    ``_prepare(features)`` equals ``(features - shift) / scale`` on the valid
    frames. Fine-tuned layers are normalised with the statistics of their
    frozen features, held fixed, so that training starts from exactly the
    frozen model's input and normalisation never depends on the step.
    """
    mask = (np.arange(features.shape[2])[None, :] < np.asarray(lengths)[:, None])[:, None, :, None]
    n, L, _, D = features.shape
    shift, scale = np.zeros((n, L, 1, D), np.float32), np.ones((n, L, 1, D), np.float32)
    if config.normalize == "speaker":
        for rows, _, _, mu, sd in _speaker_stats(features, mask, speakers):
            shift[rows], scale[rows] = mu, sd
    elif config.normalize == "utterance":
        shift[:], scale[:] = _utterance_stats(features, mask)
    elif config.normalize != "none":
        _prepare(features[:0], np.asarray(lengths)[:0], np.asarray(speakers)[:0], config)  # its error
    return shift, scale


def _prepare(features, lengths, speakers, config):
    if config.normalize == "speaker":
        return speaker_normalise(features, lengths, speakers)
    if config.normalize == "utterance":
        return utterance_normalise(features, lengths)
    if config.normalize == "none":
        return features
    raise ParameterError(f"ser.normalize={config.normalize!r} must be 'speaker', 'utterance' or 'none'")


def _tuned_inputs(blocks, block_input, features, lengths, speakers, config, stats):
    """What :func:`_with_blocks` needs for one set each step (None without fine-tuned blocks)."""
    if blocks is None:
        return None
    if len(block_input) != len(lengths):
        raise ParameterError(f"{len(block_input)} block inputs for {len(lengths)} utterances: "
                             "ser.finetune_top needs the corpora loaded with it")
    from agser.ser.finetune import pad_block_input

    bx, bl = pad_block_input(list(block_input))
    shift, scale = _prepare_affine(features, lengths, speakers, config)
    k = blocks.n_layers - blocks.n
    mu, sd = stats
    return (bx, bl, torch.from_numpy(shift[:, k:]), torch.from_numpy(scale[:, k:]),
            torch.from_numpy(mu[None, k:, None, :]), torch.from_numpy(sd[None, k:, None, :]))


def _with_blocks(x, lengths, blocks, tuned):
    """``x`` (n, n_layers, T, dim) with its top layers recomputed by the fine-tuned blocks."""
    if tuned is None:
        return x
    bx, bl, shift, scale, mu, sd = tuned
    top = blocks(bx, bl)
    # a subset's longest utterance may be shorter than the corpus-wide padding of ``x``
    top = torch.nn.functional.pad(top, (0, 0, 0, x.shape[2] - top.shape[2]))
    top = ((top - shift) / scale - mu) / sd
    top = top * frame_mask(lengths, x.shape[2]).to(top.dtype)[:, None, :, None]
    return torch.cat([x[:, : x.shape[1] - blocks.n], top], 1)


def _tensor(features, lengths, norm):
    mu, sd = norm
    x = (features - mu[None, :, None, :]) / sd[None, :, None, :]
    x *= frame_mask(torch.as_tensor(lengths), features.shape[2]).numpy()[:, None, :, None]
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.as_tensor(lengths)


@dataclass(frozen=True)
class AnchorPlan:
    """Anchor units of the source and target segments for a triplet method.

    ``units_*`` (int, -1 = not an anchor), ``weights_*`` (float),
    ``fixed_*`` (int index into the other side's segments, Hard-AG) or None.
    """

    units_source: np.ndarray
    units_target: np.ndarray
    weights_source: np.ndarray
    weights_target: np.ndarray
    fixed_source: np.ndarray = None
    fixed_target: np.ndarray = None


def anchor_plan(method, source, target, config, per_cluster=None, divergence=None):
    """The :class:`AnchorPlan` of a triplet method for these sets (no labels read).

    Parameters
    ----------
    method : "AG", "PA" or "Hard-AG"
    source : UtteranceSet or LabelledSet
    target : UtteranceSet
    config : SERConfig
    per_cluster : pandas.DataFrame, optional
        Overlap table (clusters x phones, percent), needed by AG.
    divergence : dict, optional
        :func:`agser.ser.methods.gesture_divergence_by_phone` of (source,
        target) gestures, needed by Hard-AG.
    """
    ss, ts = source.segments, target.segments
    if method == "AG":
        if per_cluster is None:
            raise ParameterError("method 'AG' needs the cluster overlap table")
        us, ws = ag_units(ss, per_cluster, config.threshold)
        ut, wt = ag_units(ts, per_cluster, config.threshold)
        return AnchorPlan(us, ut, ws, wt)
    phones = sorted(set(ss["ipa"].astype(str)) & set(ts["ipa"].astype(str)))
    us, ut = phone_units(ss, phones), phone_units(ts, phones)
    ones_s, ones_t = (us >= 0).astype(float), (ut >= 0).astype(float)
    if method == "PA":
        return AnchorPlan(us, ut, ones_s, ones_t)
    if method == "Hard-AG":
        if divergence is None:
            raise ParameterError("method 'Hard-AG' needs the gesture divergences")
        gs, gt = ss["gesture"].to_numpy(), ts["gesture"].to_numpy()
        fs = hard_ag_positives(divergence, gs, gt, anchor_is_a=True)
        ft = hard_ag_positives(divergence, gt, gs, anchor_is_a=False)
        return AnchorPlan(us, ut, ones_s, ones_t, fs, ft)
    raise ParameterError(f"method {method!r} has no anchor plan")


def _seg_tensors(segments):
    return tuple(torch.tensor(segments[c].to_numpy(dtype=np.int64)) for c in ("utt", "start", "end"))


def fit_model(method, source, target, config, seed, plan=None, la_layer_ids=None, blocks=None):
    """Train the SER model of ``method``.

    Parameters
    ----------
    method : str
        One of :data:`agser.ser.methods.METHODS`.
    source : LabelledSet
        Labelled training utterances.
    target : UtteranceSet or None
        Unlabelled target utterances (ignored by source-only and upper-bound).
        It is an :class:`UtteranceSet`: it has no labels to read.
    config : SERConfig
    seed : int
    plan : AnchorPlan, optional
        Needed by AG, PA and Hard-AG.
    la_layer_ids : sequence of int, optional
        Encoder layers LA aligns.
    blocks : agser.ser.finetune.TopBlocks, optional
        The encoder's top blocks, needed when ``config.finetune_top`` > 0
        (a copy is trained; ``blocks`` itself is left unchanged). The sets
        then carry ``block_input``.

    Returns
    -------
    (model, norm, history) : (SERModel, (mean, std) arrays, dict of per-step losses)
        With fine-tuning, the trained blocks are ``model.top_blocks``.
    """
    check_method(method)
    if not isinstance(source, LabelledSet):
        raise ParameterError("source must be a LabelledSet")
    uses_target = method in ("AG", "PA", "LA", "Hard-AG")
    if uses_target and target is None:
        raise ParameterError(f"method {method!r} needs the unlabelled target set")
    if config.finetune_top:
        if blocks is None or blocks.n != config.finetune_top:
            raise ParameterError(f"ser.finetune_top={config.finetune_top} needs the top "
                                 f"{config.finetune_top} blocks of an acoustic.encoder: hf")
        blocks = copy.deepcopy(blocks)
    else:
        blocks = None
    det = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(int(config.threads))
    try:
        torch.manual_seed(int(seed))
        rng = np.random.default_rng(int(seed) + 7919)
        fs = _prepare(source.features, source.lengths, source.speaker, config)
        norm = (_standardiser(fs, source.lengths), config)
        xs, ls = _tensor(fs, source.lengths, norm[0])
        ys = torch.as_tensor(source.labels, dtype=torch.long)
        counts = np.bincount(source.labels, minlength=4).astype(float)
        cw = torch.as_tensor(np.where(counts > 0, counts.sum() / (4 * np.maximum(counts, 1)), 0.0),
                             dtype=torch.float32)
        _, L, _, D = source.features.shape
        model = SERModel(L, D, hidden=config.hidden, n_conv=config.n_conv, kernel=config.kernel,
                         dropout=config.dropout)
        if blocks is None:
            opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        else:
            opt = torch.optim.Adam([{"params": model.parameters()},
                                    {"params": blocks.parameters(), "lr": config.finetune_lr}],
                                   lr=config.lr, weight_decay=config.weight_decay)
        tuned_s = _tuned_inputs(blocks, source.block_input, source.features, source.lengths,
                                source.speaker, config, norm[0])
        if uses_target:
            xt, lt = _tensor(_prepare(target.features, target.lengths, target.speaker, config),
                             target.lengths, norm[0])
            tuned_t = _tuned_inputs(blocks, target.block_input, target.features, target.lengths,
                                    target.speaker, config, norm[0])
        xs_frozen = xs
        xt_frozen = xt if uses_target else None
        if method in TRIPLET_METHODS:
            seg_s, seg_t = _seg_tensors(source.segments), _seg_tensors(target.segments)
            w_s = torch.as_tensor(plan.weights_source, dtype=torch.float32)
            w_t = torch.as_tensor(plan.weights_target, dtype=torch.float32)
        if method == "LA":
            la = [int(i) for i in la_layer_ids]
            mask_s, mask_t = frame_mask(ls, xs.shape[2]), frame_mask(lt, xt.shape[2])
        history = {"er": [], "extra": []}
        coral_scale = None
        half = max(1, config.max_triplets // 2)
        for _ in range(config.epochs):
            model.train()
            if blocks is not None:
                blocks.train()
                xs = _with_blocks(xs_frozen, ls, blocks, tuned_s)
                if uses_target:
                    xt = _with_blocks(xt_frozen, lt, blocks, tuned_t)
            logits, hs = model(xs, ls)
            loss = torch.nn.functional.cross_entropy(logits, ys, weight=cw)
            extra = torch.zeros(())
            if method in TRIPLET_METHODS:
                ht = model.frames(xt, lt)[-1]
                es = SERModel.segment_embeddings(hs[-1], *seg_s)
                et = SERModel.segment_embeddings(ht, *seg_t)
                a, p, n = sample_triplets(plan.units_source, plan.units_target, rng,
                                          positives=plan.fixed_source, max_triplets=half)
                b, q, m = sample_triplets(plan.units_target, plan.units_source, rng,
                                          positives=plan.fixed_target, max_triplets=half)
                a, p, n, b, q, m = (torch.as_tensor(v, dtype=torch.long) for v in (a, p, n, b, q, m))
                extra = weighted_triplet_loss(torch.cat([es[a], et[b]]), torch.cat([et[p], es[q]]),
                                              torch.cat([et[n], es[m]]),
                                              torch.cat([w_s[a], w_t[b]]), margin=config.margin)
            elif method == "LA":
                terms = [coral_loss(masked_mean(torch.relu(model.proj(xs[:, i])), mask_s),
                                    masked_mean(torch.relu(model.proj(xt[:, i])), mask_t))
                         for i in la]
                extra = torch.stack(terms).mean()
                if coral_scale is None:
                    # Deep CORAL's rule (Sun & Saenko 2016): weight CORAL so that it starts at the
                    # size of the classification loss; fixed after the first step, label-free.
                    coral_scale = float(loss.detach()) / max(float(extra.detach()), 1e-12)
                extra = extra * coral_scale
            total = loss + config.gamma * extra if uses_target else loss
            opt.zero_grad()
            total.backward()
            opt.step()
            history["er"].append(float(loss.detach()))
            history["extra"].append(float(extra.detach()))
    finally:
        torch.use_deterministic_algorithms(det)
        torch.set_num_threads(threads)
    if blocks is not None:
        model.top_blocks = blocks
    return model, norm, history


def predict(model, norm, features, lengths, speakers, block_input=()):
    """Class index of each utterance (numpy int array).

    ``block_input`` (one (T_enc_i, dim) array per utterance) is needed when
    the model was fitted with fine-tuned encoder blocks (``model.top_blocks``).
    """
    model.eval()
    stats, config = norm
    x, n = _tensor(_prepare(features, lengths, speakers, config), lengths, stats)
    blocks = getattr(model, "top_blocks", None)
    with torch.no_grad():
        x = _with_blocks(x, n, blocks, _tuned_inputs(blocks, block_input, features, lengths,
                                                        speakers, config, stats))
        logits, _ = model(x, n)
    return logits.argmax(1).numpy()


def _overlap_table(source_segments, target_segments, threshold):
    from agser.analysis.overlap import cluster_overlap

    df = pd.concat([source_segments.assign(corpus="source"), target_segments.assign(corpus="target")],
                   ignore_index=True)
    df = df[df["cluster"] >= 0]
    result = cluster_overlap(df[["corpus", "ipa", "cluster"]], threshold=threshold)
    table = result[0] if isinstance(result, tuple) else result
    return table


def run_experiment(method, source, target, seed, config, divergence=None, blocks=None):
    """One run of the protocol on two loaded corpora; metrics and predictions.

    Parameters
    ----------
    method : str
    source, target : CorpusData
        For ``upper-bound`` pass the same corpus twice.
    seed : int
    config : SERConfig
    divergence : dict, optional
        Gesture divergences (source rows, target rows) for Hard-AG; computed
        here when missing.
    blocks : agser.ser.finetune.TopBlocks, optional
        The encoder's top blocks when ``config.finetune_top`` > 0.

    Returns
    -------
    dict
        ``uar``, ``neutral``, ``anger``, ``happy``, ``sad`` (percent),
        ``n_train``, ``n_adapt``, ``n_test``, ``fit_s`` (seconds),
        ``y_true``, ``y_pred``, ``utterance_id`` (test set),
        ``layer_weights``, ``la_layers``, ``n_anchor_segments``.
    """
    check_method(method)
    if not isinstance(source, CorpusData) or not isinstance(target, CorpusData):
        raise ParameterError("run_experiment needs two CorpusData")
    part_t = speaker_split(target.speaker, config.test_fraction, seed)
    test = target.labelled(part_t == "B")
    if method == "upper-bound":
        if source is not target and source.corpus != target.corpus:
            raise ParameterError("upper-bound trains and tests within one corpus")
        train, adapt = target.labelled(part_t == "A"), None
    else:
        if source.corpus == target.corpus:
            raise ParameterError(f"method {method!r} needs two different corpora")
        train = source.labelled(np.ones(len(source.lengths), dtype=bool))
        adapt = target.unlabelled(part_t == "A")
    plan, la_ids, per_cluster = None, None, None
    if method == "AG":
        per_cluster = _overlap_table(train.segments, adapt.segments, config.threshold)
    if method == "Hard-AG" and divergence is None:
        divergence = gesture_divergence_by_phone(
            list(source.gestures), source.segments["ipa"].to_numpy(dtype=str),
            list(target.gestures), target.segments["ipa"].to_numpy(dtype=str),
            gamma=config.sdtw_gamma)
    if method in TRIPLET_METHODS:
        plan = anchor_plan(method, train, adapt, config, per_cluster, divergence)
    if method == "LA":
        dist = layer_coral_distance(train.features, train.lengths, adapt.features, adapt.lengths)
        la_ids = choose_layers(dist, config.la_layers, config.la_select).tolist()
    t0 = time.perf_counter()
    model, norm, history = fit_model(method, train, adapt, config, seed, plan, la_ids, blocks)
    fit_s = time.perf_counter() - t0
    y_pred = predict(model, norm, test.features, test.lengths, test.speaker, test.block_input)
    out = ser_metrics(test.labels, y_pred)
    out.update(
        n_train=len(train), n_adapt=0 if adapt is None else len(adapt), n_test=len(test),
        fit_s=fit_s, y_true=test.labels.tolist(), y_pred=y_pred.tolist(),
        utterance_id=test.utterance_id.tolist(),
        layer_weights=model.layer_weights().detach().numpy().tolist(), la_layers=la_ids,
        n_anchor_segments=None if plan is None else
        int((plan.units_source >= 0).sum() + (plan.units_target >= 0).sum()),
        final_er=history["er"][-1], final_extra=history["extra"][-1])
    return out
