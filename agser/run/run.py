"""The :class:`Run`: a run's parameters, its work folder and store, one cached method per stage.

Every chapter, the ``agser`` subcommands and the benchmarks reach the stages
through a ``Run``; no other code knows ``params.yaml``, the work folder or the
artifact store. Each stage method returns the same thing however often it is
called: the first call computes and stores it (keyed by the stage, the
parameters that shape it, the *content* of its inputs and the code that
computes it), later calls read it, from the store or from the object's own
memo.

Stages (in data-flow order)::

    manifest()            the corpora: simulated, the real samples, or a user's manifest.csv
    landmarks()           68-point landmarks of every utterance (dlib runs once per video)
    segments()            phone-bounded mouth-gesture segments (the extraction)
    clusters()            the AG cluster model: elbow search, chosen k, final fit
    encoded()             the one encoder pass: frame features per layer, per utterance
    acoustic_segments()   encoder frames averaged over each segment
    ser_*                 SER corpora, runs and tables (:class:`agser.run.ser.SERStages`)
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError
from agser.run.schema import read_params_file, resolve_params
from agser.run.ser import SERStages
from agser.store import ArtifactStore, code_fingerprint, fingerprint

__all__ = ["Run", "find_root", "with_params", "SIMULATOR_CODE", "CLUSTER_CODE", "ENCODER_CODE"]

#: The modules whose code shapes the simulated corpora.
SIMULATOR_CODE = ("agser.corpora.simulator", "agser.corpora.cremad", "agser.corpora.manifest",
                  "agser.phones", "agser.landmarks.openface", "agser.landmarks.types")
#: Modules whose code shapes the AG cluster model.
CLUSTER_CODE = ("agser.clustering", "agser.gestures.mouth", "agser.gestures.speaker", "agser.normalize",
                "agser.analysis.selection")
#: Modules whose code shapes the encoder pass.
ENCODER_CODE = ("agser.acoustic", "agser.phones.audio")


def find_root(root=None):
    """The book root: ``root``, else the current folder or the checkout holding agser.

    A root holds ``_toc.yml`` and ``papermill_runs/``.
    """
    if root is not None:
        root = Path(root).resolve()
        if not (root / "papermill_runs").is_dir() and not (root / "_toc.yml").is_file():
            raise ParameterError(f"root={str(root)!r} has no papermill_runs/ or _toc.yml: not a book root")
        return root
    candidates = [Path.cwd().resolve(), Path(__file__).resolve().parents[2]]
    for cand in candidates:
        if (cand / "papermill_runs").is_dir() and (cand / "_toc.yml").is_file():
            return cand
    raise ParameterError(
        "no book root found: neither the current folder nor the agser checkout "
        f"({', '.join(str(c) for c in candidates)}) holds _toc.yml and papermill_runs/; pass root=")


def with_params(params, **changes):
    """A deep copy of ``params`` with dotted keys replaced.

    Examples
    --------
    >>> with_params({"ser": {"gamma": 1.0}}, **{"ser.gamma": 0.1})["ser"]["gamma"]
    0.1
    """
    out = copy.deepcopy(dict(params))
    for dotted, value in changes.items():
        node = out
        parts = dotted.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    return out


def _audio_source(row):
    """The audio file of a manifest row: ``audio_path``, else the video's sound track."""
    for col in ("audio_path", "video_path"):
        value = str(row.get(col, "") or "").strip()
        if value and value.lower() != "nan":
            if not Path(value).is_file():
                # said here, as load_waveform says it: a missing file cannot be keyed by content
                raise InputError(f"audio {value!r} does not exist", stage="acoustic")
            return Path(value)
    raise InputError("no audio_path or video_path", stage="acoustic")


def _encoder_inputs(row, code):
    """What one row's encoding depends on: its audio file's content and the encoder's code."""
    return (_audio_source(row), code)


_ENCODERS = {}


def _encode_row(row, *, enc_params, sample_rate):
    """Worker side of the encoder pass: float32 (n_layers, n_frames, dim) of one row."""
    from agser.acoustic import load_waveform, make_encoder

    key = fingerprint(enc_params)
    if key not in _ENCODERS:
        # one encoder per process: loading a wav2vec2 takes longer than encoding a clip
        _ENCODERS[key] = make_encoder(enc_params)
    wave = load_waveform(_audio_source(row), sample_rate)
    return np.ascontiguousarray(_ENCODERS[key].encode(wave), dtype=np.float32)


class StoredFeatures:
    """Read-only mapping ``utterance_id -> float32 (n_layers, n_frames, dim)``, read on access.

    A run of many utterances never holds all frame features in memory: each
    value is read from its ``.npy`` in the run's store when it is asked for,
    and at most ``cache_bytes`` of the most recently read utterances are kept
    (a small corpus, read every epoch, then stays in memory; the paper's
    ~120 GB do not).
    """

    def __init__(self, root, keys, cache_bytes=512 * 2**20):
        from collections import OrderedDict

        self.root = Path(root)
        self.keys_ = dict(keys)
        self.cache_bytes = int(cache_bytes)
        self._cache = OrderedDict()
        self._held = 0

    def __getstate__(self):
        # a copy sent to another process starts with an empty cache
        return {"root": self.root, "keys_": self.keys_, "cache_bytes": self.cache_bytes}

    def __setstate__(self, state):
        self.__init__(state["root"], state["keys_"], state["cache_bytes"])

    def __getitem__(self, utterance_id):
        if utterance_id in self._cache:
            self._cache.move_to_end(utterance_id)
            return self._cache[utterance_id]
        value = ArtifactStore(self.root).load(self.keys_[utterance_id], mmap=True)
        if value.nbytes > self.cache_bytes:
            return value  # bigger than the whole cache: read by slices from the mapped file
        value = np.array(value)
        self._cache[utterance_id] = value
        self._held += value.nbytes
        while self._held > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._held -= old.nbytes
        return value

    def __contains__(self, utterance_id):
        return utterance_id in self.keys_

    def __iter__(self):
        return iter(self.keys_)

    def __len__(self):
        return len(self.keys_)


class Run(SERStages):
    """A run of the book: parameters, work folder, store and stages.

    Parameters
    ----------
    parameters : dict, optional
        Overrides of the defaults (:data:`agser.run.schema.SCHEMA`), checked
        at once: an unknown key or a wrong value raises ParameterError here,
        before any work.
    work_dir : str or Path
        The run's working folder; its artifact store is ``work_dir/store``.
    name : str
        The run's name (``papermill_runs/NAME``).
    tables_dir : str or Path, optional
        Where chapters write their tables (default ``work_dir/../tables``).
    root : str or Path, optional
        The book root, against which the run's relative paths are read
        (default: the current folder).
    description : str

    Examples
    --------
    >>> import tempfile
    >>> run = Run({"cluster": {"k": 4}}, work_dir=tempfile.mkdtemp())
    >>> run.params["cluster"]["k"], run.params["cluster"]["gamma"]
    (4, 1.0)
    """

    def __init__(self, parameters=None, *, work_dir, name="custom", tables_dir=None, root=None,
                 description=""):
        self.params = resolve_params(parameters)
        self.name = str(name)
        self.root = Path(root).resolve() if root is not None else Path.cwd().resolve()
        self.work_dir = Path(work_dir).resolve()
        self.tables_dir = Path(tables_dir).resolve() if tables_dir else self.work_dir.parent / "tables"
        self.description = description
        self._memo = {}
        self._extraction = None  # an extraction folder given from outside (from_extraction)
        self._check_paths()

    # -- construction --------------------------------------------------------
    @classmethod
    def named(cls, name="default", root=None, work_dir=None):
        """The run ``ROOT/papermill_runs/NAME`` (its ``params.yaml``, work folder and tables)."""
        root = find_root(root)
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ParameterError(f"run={name!r} must be the name of a folder in papermill_runs/")
        path = root / "papermill_runs" / name / "params.yaml"
        if not path.is_file():
            runs = sorted(p.parent.name for p in (root / "papermill_runs").glob("*/params.yaml"))
            raise ParameterError(f"run {name!r}: {path} does not exist; runs with a params.yaml: "
                                 f"{', '.join(runs) if runs else 'none'}")
        spec = read_params_file(path)
        base = path.parent
        return cls(spec["overrides"], work_dir=work_dir or base / "work", name=name,
                   tables_dir=base / "tables", root=root, description=spec["description"])

    @classmethod
    def from_file(cls, path, work_dir=None, root=None):
        """The run of a params.yaml anywhere (work folder ``work/`` beside it by default)."""
        spec = read_params_file(path)
        base = Path(path).resolve().parent
        return cls(spec["overrides"], work_dir=work_dir or base / "work", name=base.name,
                   tables_dir=base / "tables", root=root, description=spec["description"])

    @classmethod
    def from_extraction(cls, folder, work_dir, parameters=None):
        """A run over an existing extraction folder (``agser extract``): its stages start there.

        The manifest is not needed: :meth:`segments`, :meth:`clusters` and
        what follows from them read ``folder``.
        """
        folder = Path(folder).resolve()
        for name in ("segments.parquet", "segment_frames.npy"):
            if not (folder / name).is_file():
                raise ParameterError(f"--segments {str(folder)!r} has no {name}: run agser extract first")
        run = cls(parameters, work_dir=work_dir, name=folder.name)
        run._extraction = folder
        run._memo["segments_dir"] = folder
        return run

    def with_params(self, **changes):
        """The same run (work folder, store) with dotted parameters changed, e.g. ``**{"ser.gamma": 0}``."""
        run = type(self)(with_params(self.params, **changes), work_dir=self.work_dir, name=self.name,
                         tables_dir=self.tables_dir, root=self.root, description=self.description)
        if self._extraction is not None:
            run._extraction = self._extraction
            run._memo["segments_dir"] = self._extraction
        return run

    def __repr__(self):
        return f"Run({self.name!r}, work_dir={str(self.work_dir)!r})"

    # -- sections and files --------------------------------------------------
    @property
    def store(self):
        """The run's artifact store, ``work_dir/store``."""
        return ArtifactStore(self.work_dir / "store")

    def section(self, name):
        """A copy of one section of the parameters."""
        return copy.deepcopy(self.params[name])

    def _path(self, value):
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    def _check_paths(self):
        """Stop at once, naming it, when a path the run needs does not exist."""
        data, acoustic = self.params["data"], self.params["acoustic"]
        if data["source"] == "manifest":
            if not data["manifest"] or not self._path(data["manifest"]).is_file():
                raise ParameterError(f"data.manifest={data['manifest']!r} does not exist")
        if data["source"] == "samples" and data["grid_dir"] and not self._path(data["grid_dir"]).is_dir():
            raise ParameterError(f"data.grid_dir={data['grid_dir']!r} is not a folder")
        words = self.params["extract"]["pronunciations"]
        if words and not self._path(words).is_file():
            raise ParameterError(f"extract.pronunciations={words!r} does not exist")
        if acoustic["encoder"] == "hf":
            from agser.acoustic.hf import _looks_like_path

            name = acoustic["options"].get("name_or_path")
            if not name:
                raise ParameterError("acoustic.options.name_or_path is required for acoustic.encoder: hf")
            if _looks_like_path(name) and not Path(name).expanduser().is_dir():
                raise ParameterError(f"acoustic.options.name_or_path={name!r} does not exist")

    def input_digest(self):
        """Digest of what the run reads from outside the package: the manifest or the sample clips.

        A simulated run reads nothing (its corpora follow from the parameters
        and the simulator's code); a ``manifest`` run is keyed by the
        manifest file's content (not by every clip it names: hashing a full
        corpus is the extraction's job, per utterance); a ``samples`` run by
        the GRID clips.
        """
        data = self.params["data"]
        if data["source"] == "manifest":
            return fingerprint(self._path(data["manifest"]))
        if data["source"] == "samples" and data["grid_dir"]:
            return fingerprint(self._path(data["grid_dir"]))
        return ""

    def save_table(self, name, table, index=False):
        """Write ``table`` to ``tables_dir/NAME.csv``; returns the path."""
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        path = self.tables_dir / f"{name}.csv"
        table.to_csv(path, index=index)
        return path

    def _memoised(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- corpora -------------------------------------------------------------
    def manifest_path(self):
        """The manifest CSV of the run: simulated (cached), the samples (cached) or the user's."""
        return self._memoised("manifest_path", self._manifest_path)

    def _manifest_path(self):
        data = self.params["data"]
        if data["source"] == "simulate":
            from agser.corpora.simulator import simulate

            params = {"seed": data["seed"], "utterances_per_corpus": data["utterances_per_corpus"],
                      **data["simulator"]}
            # keyed by the simulator's code too: a changed simulator must not serve
            # corpora generated by an older one
            folder = self.store.cached_dir("simulate", params, (code_fingerprint(*SIMULATOR_CODE),),
                                           lambda out: simulate(out, **params))
            return folder / "manifest.csv"
        if data["source"] == "samples":
            from agser.corpora.samples import samples_manifest

            grid = str(self._path(data["grid_dir"]).resolve()) if data["grid_dir"] else None
            folder = self.store.cached_dir(
                # keyed by the GRID clips' content, not their folder's name
                "samples", {"with_grid": bool(grid)}, (Path(grid),) if grid else (),
                lambda out: samples_manifest(out, grid_dir=grid))
            return folder / "manifest.csv"
        return self._path(data["manifest"]).resolve()

    def manifest(self):
        """The run's manifest table (:func:`agser.corpora.read_manifest`)."""
        from agser.corpora import read_manifest

        return read_manifest(self.manifest_path())

    def is_simulated(self):
        return self.params["data"]["source"] == "simulate"

    # -- extraction ----------------------------------------------------------
    def segments_dir(self):
        """The extraction folder of the run (``segments.parquet``, ``failures.csv``, ...)."""
        return self._memoised("segments_dir", self._segments_dir)

    def _segments_dir(self):
        from agser.run.extraction import extract_manifest

        extract = {k: v for k, v in self.params["extract"].items() if k != "aligner_eval_utterances"}
        if extract["pronunciations"]:
            extract["pronunciations"] = self._path(extract["pronunciations"])
        # one folder per manifest and extraction settings: a run derived by with_params
        # (a shift sweep's corpora, say) never overwrites the folder of another
        name = fingerprint([str(self.manifest_path()), {k: v for k, v in extract.items()
                                                        if k not in ("workers", "scheduler")}])[:16]
        out = self.work_dir / "extract" / name
        extract_manifest(self.manifest_path(), out, store=self.store, progress=False, **extract)
        return out

    def segments(self):
        """``(table, frames)`` of the run's segments (:func:`agser.extract.load_segments`)."""
        from agser.extract import load_segments

        return self._memoised("segments", lambda: load_segments(self.segments_dir()))

    def extraction_failures(self):
        """``failures.csv`` of the extraction: ``utterance_id, stage, reason``."""
        return pd.read_csv(self.segments_dir() / "failures.csv")

    def landmarks(self):
        """Raw 68-point landmarks of every utterance, as the extraction computed them.

        Returns
        -------
        landmarks : dict
            ``utterance_id`` -> :class:`agser.landmarks.types.Landmarks` (pixels).
        failures : pandas.DataFrame
            ``utterance_id, stage, reason`` of the utterances without landmarks.
        """
        from agser.run.extraction import manifest_landmarks

        def compute():
            r = manifest_landmarks(self.manifest_path(), store=self.store,
                                   landmarks=self.params["extract"]["landmarks"],
                                   workers=self.params["extract"]["workers"],
                                   scheduler=self.params["extract"]["scheduler"])
            return r.values, r.failures

        return self._memoised("landmarks", compute)

    # -- the AG cluster model ------------------------------------------------
    def clusters(self, emotions="run"):
        """The AG cluster model: elbow search, chosen k, final fit, labels.

        Parameters
        ----------
        emotions : "run" or None
            ``"run"``: the segments of ``cluster.emotions`` (chapters 3-5, the
            paper's four emotions); None: every segment whatever its label
            (the model SER uses, which reads no label).

        Returns
        -------
        dict
            ``model`` (fitted SoftDTWKMeans), ``elbow`` (DataFrame ``k,
            inertia`` on the elbow sub-sample), ``k_elbow``, ``k`` (k used),
            ``segments`` (the clustered segments, with ``row`` = row in
            :meth:`segments`' table and ``cluster``, numbered from 1 as in the
            paper), ``n_elbow``, ``n_fit``, ``n_dropped_nan``, ``params``.
        """
        from agser.analysis.selection import select_segments

        params = self.section("cluster")
        if emotions is None:
            params["emotions"] = None
        table = self.segments()[0]
        mask = select_segments(table, params["phones"], params["emotions"])
        # memoised per selection *and* emotion filter: the two may share one stored fit, but
        # each call reports the parameters it was made with
        return self._memoised(("clusters", fingerprint([np.flatnonzero(mask), params["emotions"]])),
                              lambda: self._clusters(params, mask))

    def _clusters(self, params, mask):
        from agser.clustering.gesture_model import fit_gesture_clusters

        out = self.segments_dir()
        inputs = (out / "segments.parquet", out / "segment_frames.npy")
        # Keyed by the rows the filters select rather than by the filters: the SER path's
        # label-free selection (emotions: null) and the paper's four-emotion one share one fit
        # whenever they pick the same segments (every simulated utterance has one of the four).
        key_params = {k: v for k, v in params.items() if k != "emotions"}
        result = self.store.cached(
            "ag_clusters", key_params, (*inputs, np.flatnonzero(mask), code_fingerprint(*CLUSTER_CODE)),
            lambda: fit_gesture_clusters(self.segments()[0], self.gesture_frames(params["gestures"]), mask,
                                         params))
        return {**result, "params": params}

    def gesture_frames(self, option=None):
        """The mouth gesture of every segment as the run clusters it (``cluster.gestures``).

        ``"paper"``: eye-aligned and inter-pupil normalised, as the paper does;
        ``"speaker-free"``: also minus the speaker's mean mouth shape over all
        their frames (:func:`agser.gestures.speaker.speaker_free`).
        """
        from agser.gestures.speaker import gesture_frames

        option = option or self.params["cluster"]["gestures"]
        table, frames = self.segments()
        return self._memoised(("gesture_frames", option),
                              lambda: gesture_frames(frames, table["speaker"].to_numpy(), option))

    def cluster_agreement(self):
        """NMI of the AG clusters with speaker, phone, emotion and corpus, for both kinds of gesture.

        Each row is the run's clustering (same segments, same k selection)
        of the gestures as the paper preprocesses them and speaker-free;
        ``default`` marks the run's own (``cluster.gestures``).

        Returns
        -------
        pandas.DataFrame
            ``gestures, default, k, nmi_speaker, nmi_phone, nmi_emotion, nmi_corpus, n_segments``.
        """
        from agser.analysis.agreement import nmi_agreement
        from agser.gestures.speaker import GESTURE_OPTIONS

        rows = []
        for option in GESTURE_OPTIONS:
            ag = self.with_params(**{"cluster.gestures": option}).clusters()
            rows.append({"gestures": option, "default": option == self.params["cluster"]["gestures"],
                         "k": ag["k"], **nmi_agreement(ag["segments"])})
        return pd.DataFrame(rows)

    # -- the encoder pass ----------------------------------------------------
    def encoder_params(self):
        """The part of the ``acoustic`` section that decides the encoder's output."""
        a = self.params["acoustic"]
        return {"encoder": a["encoder"], "options": dict(a["options"])}

    def encoded(self):
        """Encoder frame features of every utterance of the run: the one encoder pass.

        Each utterance is encoded in a worker of the per-utterance runner
        (:func:`agser.run.runner.map_cached`: local processes, or dask with
        ``extract.scheduler``) and stored on its own as ``.npy``, keyed by the
        encoder parameters and the *content* of its audio file (``audio_path``,
        else the video's sound track), so a rerun encodes only what changed
        and a killed pass resumes.

        Returns
        -------
        dict
            ``features``: :class:`StoredFeatures`, ``utterance_id -> float32
            (n_layers, n_frames, dim)`` for every utterance that encoded, in
            manifest order (memory-mapped on access); ``failures``: DataFrame
            ``utterance_id, stage, reason`` (manifest order) for the others;
            ``digest``: content digest of all of it (a cache key for what is
            computed from these features); ``sample_rate`` (Hz),
            ``frame_rate`` (Hz), ``frame_offset`` (s, centre of frame 0),
            ``n_layers``, ``dim``, ``layer_names``.
        """
        return self._memoised("encoded", self._encoded)

    def _encoded(self):
        import functools

        from agser.acoustic import make_encoder
        from agser.run.runner import map_cached

        enc_params = self.encoder_params()
        store = self.store

        def info():
            enc = make_encoder(enc_params)
            return {"sample_rate": int(enc.sample_rate), "frame_rate": float(enc.frame_rate),
                    "frame_offset": float(getattr(enc, "frame_offset", 0.0)),
                    "n_layers": int(enc.n_layers), "dim": int(enc.dim),
                    "layer_names": list(getattr(enc, "layer_names", range(enc.n_layers)))}

        meta = store.cached("encoder_info", enc_params, (), info)
        code = code_fingerprint(*ENCODER_CODE)
        rows = self.manifest().to_dict("records")
        fn = functools.partial(_encode_row, enc_params=enc_params, sample_rate=meta["sample_rate"])
        extract = self.params["extract"]
        result = map_cached(fn, rows, store=store, stage="encoded_utterance", params=enc_params,
                            inputs=functools.partial(_encoder_inputs, code=code), workers=extract["workers"],
                            scheduler=extract["scheduler"], load=False)
        return {"features": StoredFeatures(store.root, result.values), "failures": result.failures,
                "digest": fingerprint([enc_params, result.values, result.failures]), **meta}

    def acoustic_segments(self):
        """Segment-level acoustic embeddings: encoder frames averaged over each phone span.

        Returns
        -------
        dict
            ``embeddings``: float32 ``(n_segments, n_layers, dim)`` aligned with
            the rows of :meth:`segments`' table (NaN rows for utterances whose
            audio failed); ``layer_names``; ``frame_rate`` (Hz); ``failures``:
            DataFrame ``utterance_id, stage, reason`` (utterances that have
            segments).
        """
        return self._memoised("acoustic_segments", self._acoustic_segments)

    def _acoustic_segments(self):
        from agser.acoustic.base import segment_embeddings

        enc = self.encoded()
        out = self.segments_dir()

        def compute():
            table = pd.read_parquet(out / "segments.parquet")
            emb, failures = segment_embeddings(table, enc["features"], enc["failures"], enc["frame_rate"],
                                               enc["n_layers"], enc["dim"], enc["frame_offset"])
            return {"embeddings": emb, "layer_names": list(enc["layer_names"]),
                    "frame_rate": float(enc["frame_rate"]), "failures": failures}

        # enc["digest"] stands for the audio files' content (and what failed): two simulations
        # that write byte-identical manifests into different folders get different keys.
        return self.store.cached("acoustic_segments", self.encoder_params(),
                                 (out / "segments.parquet", enc["digest"]), compute)
