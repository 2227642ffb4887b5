"""Run-level, cached SER steps that chapters 6 and 7 (and ``agser train``) call.

A run's parameters are the sections of ``papermill_runs/<run>/params.yaml``:
``data``, ``extract``, ``cluster``, ``acoustic``, ``ser``. Every expensive
step goes through the run's artifact store (``work_dir/store``):

1. :func:`ser_features`: frame features of every layer of every utterance,
   read from the run's one encoder pass
   (:func:`agser.analysis.pipeline.run_encoded_utterances`, cached per
   utterance by audio content, shared with chapter 5), average-pooled over
   ``ser.frame_pool`` frames (default run: 4, the log-mel encoder's 100 Hz
   becomes 25 Hz, which quarters the training cost; a vowel still spans 2-4
   frames); with ``ser.finetune_top`` = N > 0 (HF encoder only) also the
   unpooled hidden state that enters the top N blocks, from the same cached
   pass, which :func:`ser_top_blocks` (copies of those blocks,
   :mod:`agser.ser.finetune`) turns into the top N layers in training;
2. :func:`ser_corpora`: the two corpora as :class:`agser.ser.data.CorpusData`,
   with the AG cluster of every vowel segment. The cluster model is
   :func:`ser_clusters`: the run's clustering
   (:func:`agser.analysis.pipeline.run_ag_clusters`) with **no emotion
   filter**, fitted on every segment of the selected phones of *both*
   corpora whatever its label (chosen over "source four emotions + all of
   the target" because it needs no direction: one model serves C->I and
   I->C, and it reads no label of either corpus). Chapters 3-5 keep the
   paper's four-emotion filter; where it selects the same segments (the
   simulated corpora, all four-emotion) the two are one cached fit. SER
   assigns clusters with ``model.predict`` to every vowel segment, so
   neither the model nor which target segments are anchors depends on a
   target label (``tests/test_ser.py`` relabels the target and compares);
3. :func:`gesture_divergence`: Hard-AG's soft-DTW divergences;
4. :func:`ser_run`: one method, direction and seed (cached result dict);
5. :func:`ser_table`: many runs as one results table.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.store import code_fingerprint, fingerprint

#: Modules whose code shapes SER's cached stages (training, anchors, clusters):
#: a change to them retrains instead of serving results of an older version.
SER_CODE = ("agser.ser", "agser.analysis", "agser.clustering")

__all__ = ["RESULT_COLUMNS", "DIRECTIONS", "ser_features", "ser_clusters", "ser_corpora", "gesture_divergence", "ser_run",
           "main_runs", "ser_main", "check_paths", "ser_ready", "corpora_digest", "gamma_sweep", "shift_sweep",
           "ser_table", "with_params", "corpus_by_code", "ser_top_blocks"]

#: Columns of ``tables/ser_results.csv`` and ``tables/ablation.csv``.
RESULT_COLUMNS = ("method", "direction", "seed", "uar", "neutral", "anger", "happy", "sad")

_MEMO = {}


def _sections(config):
    config = dict(config or {})
    return {k: dict(config.get(k) or {}) for k in ("data", "extract", "cluster", "acoustic", "ser")}


def with_params(config, **changes):
    """A deep copy of ``config`` with dotted keys replaced.

    Examples
    --------
    >>> with_params({"ser": {"gamma": 1.0}}, **{"ser.gamma": 0.1})["ser"]["gamma"]
    0.1
    """
    out = copy.deepcopy(dict(config))
    for dotted, value in changes.items():
        node = out
        parts = dotted.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    return out


def ser_features(data, acoustic, work_dir, frame_pool=1, block_layer=None):
    """Encoder frame features of every utterance of a run, pooled over ``frame_pool`` frames.

    The frames are the run's one encoder pass,
    :func:`agser.analysis.pipeline.run_encoded_utterances` (cached per
    utterance by audio content and encoder parameters, shared with chapter
    5); only the pooling, which is cheap, is done here.

    Parameters
    ----------
    data, acoustic : dict
        The run's ``data`` and ``acoustic`` sections (``acoustic.encoder``:
        ``logmel`` or ``hf``; ``acoustic.options``: the encoder's arguments).
    work_dir : str or Path
    frame_pool : int
        Frames averaged into one (1 = none).
    block_layer : int, optional
        Also return this layer unpooled, the input of the lowest fine-tuned
        encoder block (``ser.finetune_top``; see :mod:`agser.ser.finetune`).

    Returns
    -------
    dict
        ``features`` (utterance_id -> float32 (n_layers, n_frames, dim)),
        ``frame_rate`` (Hz, after pooling), ``frame_offset`` (s), ``n_layers``,
        ``dim``, ``failures`` (DataFrame ``utterance_id, stage, reason``,
        manifest order); with ``block_layer``, ``block_input``
        (utterance_id -> float32 (n_frames_unpooled, dim)).
    """
    from agser.analysis.pipeline import run_encoded_utterances
    from agser.corpora import read_manifest
    from agser.runs import run_manifest

    pool = int(frame_pool)
    if pool < 1:
        raise ParameterError(f"ser.frame_pool={frame_pool!r} must be a positive integer")
    enc = run_encoded_utterances(data, acoustic, work_dir)
    failed = {r.utterance_id: r for r in enc["failures"].itertuples(index=False)}
    feats, failures, block = {}, [], {}
    for uid in read_manifest(run_manifest(data, work_dir))["utterance_id"]:
        if uid in failed:
            failures.append({"utterance_id": uid, "stage": failed[uid].stage, "reason": failed[uid].reason})
            continue
        f = enc["features"][uid]
        if f.shape[1] < pool:
            failures.append({"utterance_id": uid, "stage": "ser-features",
                             "reason": f"{f.shape[1]} encoder frames, fewer than frame_pool={pool}"})
            continue
        T = f.shape[1] // pool * pool
        feats[uid] = f[:, :T].reshape(f.shape[0], T // pool, pool, f.shape[2]).mean(2).astype(np.float32)
        if block_layer is not None:
            block[uid] = np.asarray(f[int(block_layer)], dtype=np.float32)
    extra = {} if block_layer is None else {"block_input": block}
    return {**extra, "features": feats, "frame_rate": enc["frame_rate"] / pool,
            "frame_offset": enc["frame_offset"], "n_layers": enc["n_layers"], "dim": enc["dim"],
            "failures": pd.DataFrame(failures, columns=["utterance_id", "stage", "reason"])}


def ser_clusters(data, extract, cluster, work_dir):
    """The AG cluster model that SER uses: the run's, fitted without reading any emotion label.

    :func:`agser.analysis.pipeline.run_ag_clusters` with ``emotions: null``:
    every segment of the selected phones of both corpora, whatever its label,
    so the target corpus' labels play no part in the model (chapters 3-5 keep
    the paper's four-emotion filter). When the run's filter selects the same
    segments anyway (every simulated utterance has one of the four emotions),
    it is the very same cached fit.
    """
    from agser.analysis.pipeline import run_ag_clusters

    return run_ag_clusters(data, extract, {**dict(cluster or {}), "emotions": None}, work_dir)


def _ser_segments(data, extract, cluster, work_dir):
    """Vowel segments (of the clustering's phone set) of every emotion, with their AG cluster."""
    from agser.analysis.pipeline import as_series, select_segments
    from agser.extract import load_segments
    from agser.runs import run_segments, run_store

    ag = ser_clusters(data, extract, cluster, work_dir)
    out = Path(run_segments(data, extract, work_dir))

    def compute():
        segments, frames = load_segments(out)
        mask = select_segments(segments, ag["params"]["phones"], emotions=None)
        finite = np.array([len(f) > 0 and bool(np.isfinite(f).all()) for f in frames])
        rows = np.flatnonzero(mask & finite)
        series = as_series([frames[i] for i in rows])
        table = segments.iloc[rows][["utterance_id", "corpus", "ipa", "start", "end"]] \
            .reset_index(drop=True)
        table["cluster"] = np.asarray(ag["model"].predict(series)).astype(int) + 1
        return {"segments": table, "gestures": [s.astype(np.float32) for s in series],
                "k": int(ag["k"])}

    inputs = (out / "segments.parquet", out / "segment_frames.npy")
    return run_store(work_dir).cached(
        "ser_segments", ag["params"], (*inputs, code_fingerprint(*SER_CODE)), compute)


def corpus_by_code(corpora, code):
    """The :class:`CorpusData` whose corpus has code ``code`` (``"C"``, ``"I"``)."""
    from agser.corpora import CORPUS_CODES

    hits = [c for name, c in corpora.items() if CORPUS_CODES.get(name, name) == code]
    if len(hits) != 1:
        raise ParameterError(f"corpus code {code!r} matches {len(hits)} corpora of this run "
                             f"({', '.join(corpora)})")
    return hits[0]


def check_paths(config):
    """Stop at once, naming it, when a path the run's SER needs does not exist.

    Checks ``data.manifest`` (``data.source: manifest``) and, for
    ``acoustic.encoder: hf``, ``acoustic.options.name_or_path`` when it is
    written as a path (a hub id is checked when the encoder loads).
    """
    from agser.acoustic.hf import _looks_like_path

    s = _sections(config)
    if s["data"].get("source", "simulate") == "manifest":
        path = s["data"].get("manifest")
        if not path or not Path(path).expanduser().is_file():
            raise ParameterError(f"data.manifest={path!r} does not exist")
    if s["acoustic"].get("encoder", "logmel") == "hf":
        name = (s["acoustic"].get("options") or {}).get("name_or_path")
        if not name:
            raise ParameterError("acoustic.options.name_or_path is required for acoustic.encoder: hf")
        if _looks_like_path(name) and not Path(name).expanduser().is_dir():
            raise ParameterError(f"acoustic.options.name_or_path={name!r} does not exist")


def ser_ready(config, work_dir):
    """Whether the run has what SER training needs, and if not, why (reads the manifest only).

    Needs a corpus of code ``C`` and one of code ``I``
    (:data:`agser.corpora.CORPUS_CODES`), each with at least two speakers
    and labelled utterances of at least two of the four classes.

    Returns
    -------
    (bool, str)
    """
    from agser.corpora import CORPUS_CODES, read_manifest
    from agser.runs import run_manifest
    from agser.ser.data import label_index

    check_paths(config)
    s = _sections(config)
    if s["data"].get("source", "simulate") not in ("simulate", "manifest"):
        return False, f"data.source={s['data'].get('source')!r} is not a training corpus pair"
    manifest = read_manifest(run_manifest(s["data"], work_dir))
    for code in ("C", "I"):
        names = [n for n in manifest["corpus"].unique() if CORPUS_CODES.get(n, n) == code]
        if len(names) != 1:
            return False, f"the run has {len(names)} corpora of code {code!r} (needs one)"
        rows = manifest[manifest["corpus"] == names[0]]
        labels = label_index(rows["emotion"].fillna(""))
        if rows["speaker"].nunique() < 2 or len(set(labels[labels >= 0])) < 2:
            return False, (f"corpus {names[0]!r} has {rows['speaker'].nunique()} speakers and "
                           f"{len(set(labels[labels >= 0]))} of the four classes (needs 2 and 2)")
    return True, "ready"


def ser_corpora(config, work_dir):
    """The run's corpora as ``{corpus name: CorpusData}`` (memoised in the process).

    Utterances whose features failed are left out (listed in
    ``ser_features(...)["failures"]``).
    """
    from agser.corpora import read_manifest
    from agser.runs import run_manifest
    from agser.ser.data import CorpusData, label_index, pad_features, segments_to_frames

    check_paths(config)
    s = _sections(config)
    pool = int(s["ser"].get("frame_pool", 1))
    top = int(s["ser"].get("finetune_top", 0) or 0)
    key = fingerprint([str(Path(work_dir).resolve()), s["data"], s["extract"], s["cluster"],
                       s["acoustic"], pool] + ([top] if top else []))
    if key in _MEMO:
        return _MEMO[key]
    block_layer = None
    if top:
        if s["acoustic"].get("encoder", "logmel") != "hf":
            raise ParameterError(f"ser.finetune_top={top} needs acoustic.encoder: hf")
        # hidden state n_blocks - top (layer index of the cached pass) enters the top blocks
        block_layer = -1 - top
    feats = ser_features(s["data"], s["acoustic"], work_dir, pool, block_layer)
    seg = _ser_segments(s["data"], s["extract"], s["cluster"], work_dir)
    manifest = read_manifest(run_manifest(s["data"], work_dir))
    manifest = manifest[manifest["utterance_id"].isin(list(feats["features"]))]
    table, gestures = seg["segments"], seg["gestures"]
    out = {}
    for corpus, rows in manifest.groupby("corpus", sort=True):
        uids = rows["utterance_id"].to_numpy(dtype=str)
        f, lengths = pad_features([feats["features"][u] for u in uids])
        pos = {u: i for i, u in enumerate(uids)}
        st = table[table["utterance_id"].isin(pos)]
        utt = st["utterance_id"].map(pos).to_numpy(dtype=int)
        start, end = segments_to_frames(st["start"].to_numpy() - feats["frame_offset"],
                                        st["end"].to_numpy() - feats["frame_offset"],
                                        feats["frame_rate"], lengths[utt])
        gest_rows = st.index.to_numpy()
        segs = pd.DataFrame({"utt": utt, "start": start, "end": end,
                             "ipa": st["ipa"].astype(str).to_numpy(),
                             "cluster": st["cluster"].to_numpy(dtype=int),
                             "gesture": np.arange(len(st))})
        out[corpus] = CorpusData(
            corpus=corpus, features=f, lengths=lengths,
            speaker=rows["speaker"].to_numpy(dtype=str), utterance_id=uids,
            labels=label_index(rows["emotion"].fillna("")), segments=segs,
            frame_rate=feats["frame_rate"], gestures=tuple(gestures[i] for i in gest_rows),
            block_input=tuple(feats["block_input"][u] for u in uids) if top else ())
    if len(out) != 2:
        raise ParameterError(f"SER needs exactly two corpora, the run has {sorted(out)}")
    _MEMO[key] = out
    # Content digest of what training reads, so a cached run is reused only for the same data
    # (an upstream code change that alters clusters or features changes it).
    _MEMO[("digest", key)] = fingerprint([[c.corpus, c.features, c.lengths, c.labels, c.speaker,
                                           c.segments, c.frame_rate] for c in out.values()])
    return out


def corpora_digest(config, work_dir):
    """Content digest of :func:`ser_corpora`'s result (features, labels, segments, clusters)."""
    corpora = ser_corpora(config, work_dir)
    for k, v in _MEMO.items():
        if v is corpora:
            return _MEMO[("digest", k)]
    raise ParameterError("corpora digest missing")  # pragma: no cover - ser_corpora always sets it


def gesture_divergence(config, work_dir, source, target, sdtw_gamma=1.0):
    """Hard-AG's soft-DTW divergences between ``source`` and ``target`` (cached)."""
    from agser.runs import run_store
    from agser.ser.methods import gesture_divergence_by_phone

    params = {"source": source.corpus, "target": target.corpus, "sdtw_gamma": float(sdtw_gamma)}
    # keyed by the gestures and their phones themselves, not by the configuration
    # that produced them: a corpus whose files change in place is recomputed
    content = (source.segments["ipa"].to_numpy(dtype=str), target.segments["ipa"].to_numpy(dtype=str),
               list(source.gestures), list(target.gestures))

    def compute():
        return gesture_divergence_by_phone(
            list(source.gestures), source.segments["ipa"].to_numpy(dtype=str),
            list(target.gestures), target.segments["ipa"].to_numpy(dtype=str), gamma=sdtw_gamma)

    return run_store(work_dir).cached(
        "ser_gesture_divergence", params, (*content, code_fingerprint(*SER_CODE)), compute)


def ser_run(method, direction, seed, config, work_dir):
    """One method, direction and seed of a run (cached); see :func:`agser.ser.train.train_run`."""
    from agser.runs import run_store
    from agser.ser.methods import CROSS_METHODS, check_method
    from agser.ser.train import SERConfig, parse_direction, run_experiment

    check_method(method)
    src_code, tgt_code = parse_direction(direction)
    if method == "upper-bound" and src_code != tgt_code:
        raise ParameterError(f"upper-bound runs within one corpus: direction={direction!r} "
                             f"must be like 'C->C'")
    if method in CROSS_METHODS and src_code == tgt_code:
        raise ParameterError(f"{method} is cross-corpus: direction={direction!r} must be like 'C->I'")
    s = _sections(config)
    cfg = SERConfig.from_params(s["ser"])
    check_paths(config)
    params = {"method": method, "direction": direction, "seed": int(seed), "ser": cfg.as_dict(),
              "frame_pool": int(s["ser"].get("frame_pool", 1)),
              "data_digest": corpora_digest(config, work_dir)}

    def compute():
        corpora = ser_corpora(config, work_dir)
        source, target = corpus_by_code(corpora, src_code), corpus_by_code(corpora, tgt_code)
        div = None
        if method == "Hard-AG":
            div = gesture_divergence(config, work_dir, source, target, cfg.sdtw_gamma)
        blocks = ser_top_blocks(s["acoustic"], cfg.finetune_top, params["frame_pool"]) \
            if cfg.finetune_top else None
        return run_experiment(method, source, target, int(seed), cfg, divergence=div, blocks=blocks)

    return run_store(work_dir).cached("ser_run", params, (code_fingerprint(*SER_CODE),), compute)


def ser_top_blocks(acoustic, n, frame_pool=1):
    """The top ``n`` blocks of the run's HF encoder, to fine-tune (:class:`agser.ser.finetune.TopBlocks`)."""
    from agser.acoustic import make_encoder
    from agser.ser.finetune import TopBlocks

    if dict(acoustic or {}).get("encoder", "logmel") != "hf":
        raise ParameterError(f"ser.finetune_top={n} needs acoustic.encoder: hf")
    return TopBlocks(make_encoder(acoustic), int(n), frame_pool)


def ser_table(config, work_dir, runs):
    """Results table of many runs.

    Parameters
    ----------
    config : dict
    work_dir : str or Path
    runs : iterable of (method, direction, seed)

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS` plus ``fit_s`` (training seconds, when the run
        was computed).
    """
    rows = []
    for method, direction, seed in runs:
        r = ser_run(method, direction, seed, config, work_dir)
        rows.append({"method": method, "direction": direction, "seed": int(seed),
                     **{k: r[k] for k in RESULT_COLUMNS[3:]}, "fit_s": r["fit_s"]})
    return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "fit_s"])


DIRECTIONS = ("C->I", "I->C")


def main_runs(config):
    """The (method, direction, seed) triples of chapter 6's table.

    Every cross-corpus method in both directions and the two upper bounds,
    for each seed of ``ser.seeds`` (default 0, 1, 2).

    Examples
    --------
    >>> len(main_runs({"ser": {"seeds": [0, 1, 2]}}))
    36
    """
    from agser.ser.methods import CROSS_METHODS

    seeds = [int(s) for s in (_sections(config)["ser"].get("seeds") or [0, 1, 2])]
    runs = [("upper-bound", f"{c}->{c}", s) for c in ("C", "I") for s in seeds]
    runs += [(m, d, s) for m in CROSS_METHODS for d in DIRECTIONS for s in seeds]
    return runs


def ser_main(config, work_dir):
    """Chapter 6's results table and the run dicts behind it.

    Returns
    -------
    (table, runs) : (pandas.DataFrame, dict)
        ``table`` as :func:`ser_table`; ``runs`` maps ``(method, direction,
        seed)`` to the cached run dict (predictions for the McNemar test).
    """
    triples = main_runs(config)
    table = ser_table(config, work_dir, triples)
    runs = {t: ser_run(*t, config, work_dir) for t in triples}
    return table, runs


def gamma_sweep(config, work_dir, methods=("AG",)):
    """UAR of ``methods`` over ``ser.gamma_sweep`` values, both directions, ``ser.sweep_seeds``.

    Returns
    -------
    pandas.DataFrame
        ``gamma, method, direction, seed, uar`` (gamma 0 is source-only
        training with the same code path).
    """
    s = _sections(config)["ser"]
    gammas = [float(g) for g in (s.get("gamma_sweep") or [])]
    seeds = [int(x) for x in (s.get("sweep_seeds") or [0])]
    rows = []
    for g in gammas:
        cfg = with_params(config, **{"ser.gamma": g})
        for m in methods:
            for d in DIRECTIONS:
                for seed in seeds:
                    r = ser_run(m, d, seed, cfg, work_dir)
                    rows.append({"gamma": g, "method": m, "direction": d, "seed": seed, "uar": r["uar"]})
    return pd.DataFrame(rows, columns=["gamma", "method", "direction", "seed", "uar"])


def shift_sweep(config, work_dir, methods=("source-only", "AG"), k=None):
    """UAR against the simulator's domain-shift strength (``data.simulator.shift``).

    Each value of ``ser.shift_sweep`` is a whole new pair of simulated corpora
    of ``ser.shift_utterances`` utterances each, extracted, clustered (with
    ``k`` fixed to the main run's, no elbow search) and encoded, so the sweep
    is the costliest part of chapter 6; it uses ``ser.sweep_seeds``.

    Returns
    -------
    pandas.DataFrame
        ``shift, method, direction, seed, uar``.
    """
    sec = _sections(config)
    s = sec["ser"]
    if sec["data"].get("source", "simulate") != "simulate":
        raise ParameterError("the shift sweep needs data.source: simulate")
    shifts = [float(x) for x in (s.get("shift_sweep") or [])]
    seeds = [int(x) for x in (s.get("sweep_seeds") or [0])]
    n = s.get("shift_utterances") or sec["data"].get("utterances_per_corpus")
    rows = []
    for shift in shifts:
        changes = {"data.simulator.shift": shift, "data.utterances_per_corpus": n}
        if k is not None:
            changes["cluster.k_range"] = [int(k), int(k)]
        cfg = with_params(config, **changes)
        for m in methods:
            for d in DIRECTIONS:
                for seed in seeds:
                    r = ser_run(m, d, seed, cfg, work_dir)
                    rows.append({"shift": shift, "method": m, "direction": d, "seed": seed,
                                 "uar": r["uar"]})
    return pd.DataFrame(rows, columns=["shift", "method", "direction", "seed", "uar"])
