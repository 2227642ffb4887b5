"""Run-level, cached analysis steps that chapters 3-7 share.

Each function takes a run's parameter sections (``data``, ``extract``,
``cluster``, ``acoustic``) and its ``work_dir``, and goes through the run's
artifact store, so every chapter can call it and the work is done once.

``cluster`` parameters, with the defaults used where a key is absent::

    k_range: [2, 12]      # k values of the elbow search (inclusive)
    k: null               # null: the elbow's k; an int overrides it
    gamma: 1.0            # soft-DTW smoothing, in squared IPD units
    max_iter: 20          # k-means iterations (final fit)
    n_init: 1
    tol: 1.0e-4
    seed: 0
    phones: vowels        # vowels | paper_vowels | all | [list of IPA]
    emotions: [neutral, anger, happiness, sadness]   # null: every segment (the SER path's model)
    elbow_max_segments: 800    # seeded sub-sample for the elbow fits (null: all)
    elbow_max_iter: 8          # iterations of each elbow fit
    fit_max_segments: null     # sub-sample for the final fit; all segments are then predicted
    backend: torch
    dtype: float32
    barycenter_sample: 64      # members per barycentre update (null: all)
    max_iter_barycenter: 30    # L-BFGS steps per barycentre update

``acoustic`` parameters::

    encoder: logmel       # or hf (agser.acoustic.hf.HFEncoder)
    options: {}           # encoder keyword arguments
    association:          # read by chapter 5 only
      layer: cmn          # layer name (or index) of the acoustic cluster model
      k: null             # acoustic clusters (null: the AG model's k)
      coverage: 0.9       # share an AG cluster's "n90" acoustic clusters must hold
      n_permutations: 1000
      seed: 0
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError
from agser.store import code_fingerprint

#: Modules whose code shapes each cached stage: a change to them recomputes
#: the stage instead of serving an artifact an older version made.
CLUSTER_CODE = ("agser.clustering", "agser.analysis.pipeline")
ENCODER_CODE = ("agser.acoustic", "agser.phones.audio")

__all__ = [
    "CLUSTER_DEFAULTS",
    "FOUR_EMOTIONS",
    "select_segments",
    "as_series",
    "run_ag_clusters",
    "run_encoded_utterances",
    "run_acoustic_segments",
    "StoredFeatures",
]

FOUR_EMOTIONS = ("neutral", "anger", "happiness", "sadness")

CLUSTER_DEFAULTS = {
    "k_range": [2, 12],
    "k": None,
    # tslearn's default. Squared distances between vowel frames are ~0.03-0.4
    # (IPD units^2), so soft-DTW is far from hard DTW at gamma = 1; measured on
    # the default run (k = 10), gamma 1 and 0.01 give clusters equally
    # (un)related to segment length (ARI 0.004 vs 0.003) and phone (0.086 vs 0.085).
    "gamma": 1.0,
    "max_iter": 20,
    "n_init": 1,
    "tol": 1e-4,
    "seed": 0,
    "phones": "vowels",
    "emotions": list(FOUR_EMOTIONS),
    # The elbow search fits every k of the range: a seeded sub-sample and fewer
    # iterations keep it to a few minutes on 2 CPU cores (measured on the default run).
    "elbow_max_segments": 800,
    "elbow_max_iter": 8,
    "fit_max_segments": None,
    "backend": "torch",
    "dtype": "float32",
    # Barycentre updates on at most 64 members and 30 L-BFGS steps. On the
    # default run's 1600 vowel segments, k = 10 (a loaded 2-core machine):
    # 2.7 s per iteration, final inertia 0.1642 after 10 iterations, against
    # 11.5 s per iteration and 0.1624 after 15 with all members and 100 steps.
    "barycenter_sample": 64,
    "max_iter_barycenter": 30,
}


def _cluster_params(cluster):
    unknown = sorted(set(cluster or {}) - set(CLUSTER_DEFAULTS))
    if unknown:
        # Said aloud rather than dropped silently: a misspelt key would otherwise
        # leave its default in force without anyone noticing.
        warnings.warn(f"cluster parameter(s) {unknown} are not used by the analyses", stacklevel=3)
    params = {**CLUSTER_DEFAULTS, **{k: v for k, v in dict(cluster or {}).items() if k not in unknown}}
    lo, hi = (int(v) for v in params["k_range"])
    if not 1 <= lo <= hi:
        raise ParameterError(f"cluster.k_range={params['k_range']!r} must be [a, b] with 1 <= a <= b")
    params["k_range"] = [lo, hi]
    return params


def select_segments(segments, phones="vowels", emotions=FOUR_EMOTIONS):
    """Boolean mask of the segments to cluster.

    Parameters
    ----------
    segments : pandas.DataFrame
        With ``ipa`` and ``emotion`` columns.
    phones : "vowels" | "paper_vowels" | "all" | sequence of str
        ``vowels``: every IPA vowel of :mod:`agser.phones.ipa`;
        ``paper_vowels``: the paper's six (ɑ ə ɛ i æ u).
    emotions : sequence of str or None
        Emotions to keep (None: all).

    Returns
    -------
    numpy.ndarray of bool, (n_segments,)

    Examples
    --------
    >>> df = pd.DataFrame({"ipa": ["i", "t", "ɑ"], "emotion": ["anger", "anger", "fear"]})
    >>> select_segments(df).tolist()
    [True, False, False]
    """
    from agser.phones.ipa import PAPER_VOWELS, VOWELS

    if isinstance(phones, str):
        table = {"vowels": VOWELS, "paper_vowels": set(PAPER_VOWELS), "all": None}
        if phones not in table:
            raise ParameterError(f"cluster.phones={phones!r} must be vowels, paper_vowels, all or a list")
        keep = table[phones]
    else:
        keep = set(phones)
    mask = np.ones(len(segments), dtype=bool)
    if keep is not None:
        mask &= segments["ipa"].astype(str).isin(keep).to_numpy()
    if emotions is not None:
        mask &= segments["emotion"].astype(str).isin(list(emotions)).to_numpy()
    return mask


def as_series(frames):
    """Mouth frames ``(n_frames, 12, 2)`` -> the clustering layout ``(n_frames, 24)``,
    point-major (x48, y48, x49, y49, ...)."""
    return [np.asarray(f, dtype=np.float64).reshape(len(f), -1) for f in frames]


# -- clustering adapter --------------------------------------------------------
# The one place that builds the AG cluster model, so a change of the
# clustering stage's API is a change here only.

def _model_kwargs(params, max_iter):
    return dict(
        gamma=float(params["gamma"]),
        max_iter=int(max_iter),
        n_init=int(params["n_init"]),
        tol=float(params["tol"]),
        random_state=int(params["seed"]),
        backend=params["backend"],
        dtype=params["dtype"],
        barycenter_sample=params["barycenter_sample"],
        max_iter_barycenter=int(params["max_iter_barycenter"]),
    )


def _make_kmeans(k, params, max_iter):
    from agser.clustering import SoftDTWKMeans

    return SoftDTWKMeans(n_clusters=int(k), **_model_kwargs(params, max_iter))


def _elbow(X, params):
    """Inertia over k_range on X, and the elbow's k."""
    ks = list(range(params["k_range"][0], params["k_range"][1] + 1))
    # A k above the number of segments cannot be fitted; such k are left out of the table.
    ks = [k for k in ks if k <= len(X)]
    if not ks:
        raise ParameterError(f"cluster.k_range={params['k_range']} exceeds the {len(X)} segments")
    from agser.clustering import choose_k_elbow, fit_k_range

    table = fit_k_range(X, ks, **_model_kwargs(params, params["elbow_max_iter"]))
    return table, int(choose_k_elbow(table["k"].to_numpy(), table["inertia"].to_numpy()))


def _subsample(n, max_n, seed):
    if max_n is None or n <= int(max_n):
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(max_n), replace=False))


def run_ag_clusters(data, extract, cluster, work_dir):
    """The AG cluster model of a run: elbow search, chosen k, final fit, labels.

    Parameters
    ----------
    data, extract : dict
        The run's ``data`` and ``extract`` sections (for :func:`agser.runs.run_segments`).
    cluster : dict
        The run's ``cluster`` section (keys in this module's docstring).
    work_dir : str or Path
        The run's working folder.

    Returns
    -------
    dict
        ``model`` (fitted SoftDTWKMeans), ``elbow`` (DataFrame ``k, inertia``
        on the elbow sub-sample), ``k_elbow`` (the elbow's k), ``k`` (k used),
        ``segments`` (the clustered segments, with ``row`` = row in
        :func:`agser.extract.load_segments`' table and ``cluster``, numbered
        from 1 as in the paper), ``n_elbow`` and ``n_fit`` (segments used by
        the elbow and final fits), ``n_dropped_nan`` (segments left out for
        missing frames), ``params``.
    """
    from agser.extract import load_segments
    from agser.runs import run_segments, run_store

    params = _cluster_params(cluster)
    out = Path(run_segments(data, extract, work_dir))
    inputs = (out / "segments.parquet", out / "segment_frames.npy")
    # Keyed by the rows the filters select rather than by the filters: the SER path's
    # label-free selection (emotions: null) and the paper's four-emotion one share one fit
    # whenever they pick the same segments (every simulated utterance has one of the four).
    mask = select_segments(pd.read_parquet(inputs[0]), params["phones"], params["emotions"])
    key_params = {k: v for k, v in params.items() if k != "emotions"}

    def compute():
        segments, frames = load_segments(out)
        finite = np.array([bool(np.isfinite(f).all()) and len(f) > 0 for f in frames])
        n_nan = int((mask & ~finite).sum())
        rows = np.flatnonzero(mask & finite)
        if len(rows) == 0:
            raise ParameterError(
                f"no segment to cluster for phones={params['phones']!r}, emotions={params['emotions']!r}"
            )
        X = as_series([frames[i] for i in rows])
        elbow_idx = _subsample(len(X), params["elbow_max_segments"], params["seed"])
        elbow, k_elbow = _elbow([X[i] for i in elbow_idx], params)
        k = int(params["k"]) if params["k"] is not None else k_elbow
        fit_idx = _subsample(len(X), params["fit_max_segments"], params["seed"] + 1)
        model = _make_kmeans(k, params, params["max_iter"]).fit([X[i] for i in fit_idx])
        labels = np.asarray(model.predict(X)) if len(fit_idx) < len(X) else np.asarray(model.labels_)
        table = segments.iloc[rows].reset_index(drop=True)
        table.insert(0, "row", rows)
        table["cluster"] = labels.astype(int) + 1
        return {
            "model": model,
            "elbow": elbow,
            "k_elbow": k_elbow,
            "k": k,
            "segments": table,
            "n_elbow": int(len(elbow_idx)),
            "n_fit": int(len(fit_idx)),
            "n_dropped_nan": n_nan,
            "params": params,
        }

    result = run_store(work_dir).cached(
        "ag_clusters", key_params, (*inputs, np.flatnonzero(mask), code_fingerprint(*CLUSTER_CODE)), compute
    )
    return {**result, "params": params}


def _audio_source(row):
    """The audio file of a manifest row: ``audio_path``, else the video's sound track."""
    for col in ("audio_path", "video_path"):
        value = str(row.get(col, "") or "").strip()
        if value and value.lower() != "nan":
            return value
    raise InputError("no audio_path or video_path", stage="acoustic")


def _encoder_params(acoustic):
    """The part of a run's ``acoustic`` section that decides the encoder's output."""
    acoustic = dict(acoustic or {})
    return {"encoder": acoustic.get("encoder", "logmel"), "options": dict(acoustic.get("options") or {})}


def _encoder_info(encoder):
    return {
        "sample_rate": int(encoder.sample_rate),
        "frame_rate": float(encoder.frame_rate),
        "frame_offset": float(getattr(encoder, "frame_offset", 0.0)),
        "n_layers": int(encoder.n_layers),
        "dim": int(encoder.dim),
        "layer_names": list(getattr(encoder, "layer_names", range(encoder.n_layers))),
    }


class StoredFeatures(Mapping):
    """Read-only mapping ``utterance_id -> float32 (n_layers, n_frames, dim)``.

    Each value is read from the run's artifact store when it is asked for, so
    a run of many utterances never holds all frame features in memory at once.

    Parameters
    ----------
    root : str or Path
        The artifact store's folder.
    keys : dict
        ``utterance_id -> store key`` of the utterance's encoder output.
    """

    def __init__(self, root, keys):
        self.root = Path(root)
        self.keys_ = dict(keys)

    def __getitem__(self, utterance_id):
        from agser.store import ArtifactStore

        return ArtifactStore(self.root).load(self.keys_[utterance_id])

    def __iter__(self):
        return iter(self.keys_)

    def __len__(self):
        return len(self.keys_)


def run_encoded_utterances(data, acoustic, work_dir):
    """Encoder frame features of every utterance of a run: the one encoder pass.

    Each utterance is cached on its own in the run's store, keyed by the
    encoder parameters and the *content* of its audio file (``audio_path``,
    else the video's sound track), so two runs or two simulations whose
    manifests look alike never share features unless their audio is the same
    bytes, and a rerun only encodes the files that changed. Chapter 5's
    segment embeddings (:func:`run_acoustic_segments`) and the SER features
    (:func:`agser.ser.pipeline.ser_features`) both read this pass.

    Parameters
    ----------
    data : dict
        The run's ``data`` section (for :func:`agser.runs.run_manifest`).
    acoustic : dict
        The run's ``acoustic`` section: ``encoder`` and ``options`` (see
        :func:`agser.acoustic.make_encoder`); other keys are ignored.
    work_dir : str or Path

    Returns
    -------
    dict
        ``features``: :class:`StoredFeatures`, ``utterance_id -> float32
        (n_layers, n_frames, dim)`` for every utterance that encoded, in
        manifest order (read on access); ``failures``: DataFrame
        ``utterance_id, stage, reason`` (manifest order) for the others;
        ``digest``: content digest of all of it (a cache key for what is
        computed from these features); ``sample_rate`` (Hz), ``frame_rate``
        (Hz), ``frame_offset`` (s, centre of frame 0), ``n_layers``, ``dim``,
        ``layer_names``.
    """
    from agser.acoustic import load_waveform, make_encoder
    from agser.corpora import read_manifest
    from agser.runs import run_manifest, run_store
    from agser.store import fingerprint

    enc_params = _encoder_params(acoustic)
    store = run_store(work_dir)
    manifest = read_manifest(run_manifest(data, work_dir))
    built = []

    def encoder():
        # Built at most once per call, and only when something is not cached
        # (loading a wav2vec2 model takes longer than reading every cached utterance).
        if not built:
            built.append(make_encoder(enc_params))
        return built[0]

    info = store.cached("encoder_info", enc_params, (), lambda: _encoder_info(encoder()))
    code = code_fingerprint(*ENCODER_CODE)
    keys, failures = {}, []
    for _, row in manifest.iterrows():
        uid = row["utterance_id"]
        try:
            source = _audio_source(row)
            if not Path(source).is_file():
                # Said here, as load_waveform says it: a missing file cannot be keyed by content.
                raise InputError(f"audio {source!r} does not exist", stage="acoustic")
        except InputError as exc:
            failures.append({"utterance_id": uid, "stage": exc.stage or "acoustic", "reason": exc.reason})
            continue
        inputs = (Path(source), code)
        key = store.key("encoded_utterance", enc_params, inputs)
        failed = store.key("encoded_utterance_failed", enc_params, inputs)
        if not store.has(key) and not store.has(failed):
            try:
                feats = encoder().encode(load_waveform(source, info["sample_rate"]))
            except InputError as exc:
                # Cached too: the same bytes through the same encoder fail the same way.
                store.save(failed, {"stage": exc.stage or "acoustic", "reason": exc.reason})
            else:
                store.save(key, np.ascontiguousarray(feats, dtype=np.float32))
        if store.has(key):
            keys[uid] = key
        else:
            failures.append({"utterance_id": uid, **store.load(failed)})
    failures = pd.DataFrame(failures, columns=["utterance_id", "stage", "reason"])
    return {
        "features": StoredFeatures(store.root, keys),
        "failures": failures,
        "digest": fingerprint([enc_params, keys, failures]),
        **info,
    }


def run_acoustic_segments(data, extract, acoustic, work_dir):
    """Segment-level acoustic embeddings: encoder frames averaged over each phone span.

    The frames are :func:`run_encoded_utterances`' (the run's one encoder
    pass); the result is cached under the encoder parameters, the segments
    table and the content of the audio files.

    Parameters
    ----------
    data, extract : dict
        The run's ``data`` and ``extract`` sections.
    acoustic : dict
        The run's ``acoustic`` section: ``encoder`` and ``options`` (see
        :func:`agser.acoustic.make_encoder`); other keys are ignored here.
    work_dir : str or Path

    Returns
    -------
    dict
        ``embeddings``: float32 ``(n_segments, n_layers, dim)`` aligned with the
        rows of :func:`agser.extract.load_segments`' table (NaN rows for
        utterances whose audio failed); ``layer_names``; ``frame_rate`` (Hz);
        ``failures``: DataFrame ``utterance_id, stage, reason`` (utterances
        that have segments).
    """
    from agser.acoustic.base import pool_spans
    from agser.runs import run_segments, run_store

    enc = run_encoded_utterances(data, acoustic, work_dir)
    out = Path(run_segments(data, extract, work_dir))

    def compute():
        segments = pd.read_parquet(out / "segments.parquet")
        emb = np.full((len(segments), enc["n_layers"], enc["dim"]), np.nan, dtype=np.float32)
        failed = {r.utterance_id: r for r in enc["failures"].itertuples(index=False)}
        failures = []
        for utt, idx in segments.groupby("utterance_id", sort=False).indices.items():
            if utt in failed:
                failures.append({"utterance_id": utt, "stage": failed[utt].stage, "reason": failed[utt].reason})
                continue
            if utt not in enc["features"]:
                failures.append({"utterance_id": utt, "stage": "acoustic",
                                 "reason": f"utterance {utt!r} is not in the manifest"})
                continue
            spans = segments[["start", "end"]].to_numpy()[idx]
            emb[idx] = pool_spans(enc["features"][utt], enc["frame_rate"], spans,
                                  frame_offset=enc["frame_offset"])
        return {
            "embeddings": emb,
            "layer_names": list(enc["layer_names"]),
            "frame_rate": float(enc["frame_rate"]),
            "failures": pd.DataFrame(failures, columns=["utterance_id", "stage", "reason"]),
        }

    # enc["digest"] stands for the audio files' content (and what failed): two simulations
    # that write byte-identical manifests into different folders get different keys.
    return run_store(work_dir).cached(
        "acoustic_segments", _encoder_params(acoustic), (out / "segments.parquet", enc["digest"]), compute
    )
