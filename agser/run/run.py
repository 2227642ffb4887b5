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


def _encode_row(row, *, enc_params, sample_rate, dtype="float32"):
    """Worker side of the encoder pass: (n_layers, n_frames, dim) of one row, stored as ``dtype``."""
    from agser.acoustic import load_waveform, make_encoder

    import torch

    # One torch thread per worker, set before any torch operation of this process: the workers
    # already share the cores (two threads each made a loaded machine 20x slower), and a worker
    # forked from a parent that has run torch (encoder_info loads the model) hangs in torch's
    # OpenMP pool the first time it enters it with more than one thread.
    torch.set_num_threads(1)
    key = fingerprint(enc_params)
    if key not in _ENCODERS:
        # one encoder per process: loading a wav2vec2 takes longer than encoding a clip
        _ENCODERS[key] = make_encoder(enc_params)
    wave = load_waveform(_audio_source(row), sample_rate)
    return np.ascontiguousarray(_ENCODERS[key].encode(wave), dtype=np.dtype(dtype))


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

    def _cached(self, key, make):
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = make()
        if value.nbytes > self.cache_bytes:
            return value  # bigger than the whole cache: not kept
        self._cache[key] = value
        self._held += value.nbytes
        while self._held > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._held -= old.nbytes
        return value

    def _read(self, utterance_id):
        value = ArtifactStore(self.root).load(self.keys_[utterance_id], mmap=True)
        # a small utterance is read into memory once; a huge one stays mapped (read by slices)
        return np.array(value) if value.nbytes <= self.cache_bytes else value

    def __getitem__(self, utterance_id):
        return self._cached(utterance_id, lambda: self._read(utterance_id))

    def shape(self, utterance_id):
        """``(n_layers, n_frames, dim)`` of one utterance, from its file's header (nothing read)."""
        return tuple(ArtifactStore(self.root).load(self.keys_[utterance_id], mmap=True).shape)

    def pooled(self, utterance_id, pool):
        """The utterance's frames averaged ``pool`` at a time (:func:`agser.ser.data.pool_frames`), cached.

        Training reads every utterance once per epoch: pooling it once saves
        most of the reading cost; the raw frames are not kept for it.
        """
        from agser.ser.data import pool_frames

        if int(pool) == 1:
            return self[utterance_id]
        return self._cached((utterance_id, int(pool)), lambda: pool_frames(
            ArtifactStore(self.root).load(self.keys_[utterance_id], mmap=True), pool))

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
                 description="", progress=False):
        self.params = resolve_params(parameters)
        self.name = str(name)
        self.root = Path(root).resolve() if root is not None else Path.cwd().resolve()
        self.work_dir = Path(work_dir).resolve()
        self.tables_dir = Path(tables_dir).resolve() if tables_dir else self.work_dir.parent / "tables"
        self.description = description
        self.progress = bool(progress)  # progress bars of the per-utterance stages (the CLI's; not in the book)
        self._memo = {}
        self._extraction = None  # an extraction folder given from outside (from_extraction)
        self._check_paths()

    # -- construction --------------------------------------------------------
    @classmethod
    def named(cls, name="default", root=None, work_dir=None, progress=False):
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
                   tables_dir=base / "tables", root=root, description=spec["description"], progress=progress)

    @classmethod
    def from_file(cls, path, work_dir=None, root=None, progress=False):
        """The run of a params.yaml anywhere (work folder ``work/`` beside it by default)."""
        spec = read_params_file(path)
        base = Path(path).resolve().parent
        return cls(spec["overrides"], work_dir=work_dir or base / "work", name=base.name,
                   tables_dir=base / "tables", root=root, description=spec["description"], progress=progress)

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
                         tables_dir=self.tables_dir, root=self.root, description=self.description,
                         progress=self.progress)
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
        if acoustic["encoder"] == "hf" and acoustic["standin_model"] is None:
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
        if data["source"] == "standin":
            from agser.corpora.standin import write_standin

            params = {"seed": data["seed"], "utterances_per_corpus": data["utterances_per_corpus"],
                      **data["simulator"]}
            # the simulator's corpora laid out as the real releases, read back by the real adapters
            folder = self.store.cached_dir(
                "standin", params, (code_fingerprint(*SIMULATOR_CODE, "agser.corpora.standin",
                                                     "agser.corpora.mspimprov"),),
                lambda out: write_standin(out, **params))
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
        """Whether the corpora come from the simulator (its truth is then known)."""
        return self.params["data"]["source"] in ("simulate", "standin")

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
        extract_manifest(self.manifest_path(), out, store=self.store, progress=self.progress, **extract)
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
        options = dict(a["options"])
        if a["encoder"] == "hf" and a["standin_model"] is not None:
            options["name_or_path"] = str(self.standin_model())
        return {"encoder": a["encoder"], "options": options}

    def encoder_key(self):
        """What the encoder pass is keyed by: its parameters, with a local checkpoint's *content*.

        A Hugging Face checkpoint given as a folder is keyed by the content of
        its files, not by its path: a moved or copied model keeps its cached
        features, a retrained one in the same folder does not.
        """
        def compute():
            params = self.encoder_params()
            key = {**params, "options": dict(params["options"]), "dtype": self.params["acoustic"]["dtype"]}
            name = key["options"].get("name_or_path")
            if params["encoder"] == "hf" and name and Path(name).expanduser().is_dir():
                key["options"]["name_or_path"] = "content:" + fingerprint(Path(name).expanduser())
            return key

        return self._memoised("encoder_key", compute)

    def standin_model(self):
        """The folder of the small wav2vec2 that ``acoustic.standin_model`` describes (written once).

        A wav2vec2 of that configuration with seeded random weights, saved with
        ``save_pretrained`` (model and feature extractor): the ``hf`` encoder
        then loads it as it would a real checkpoint (:mod:`agser.acoustic.standin`).
        """
        from agser.acoustic.standin import write_standin_wav2vec2

        config = self.params["acoustic"]["standin_model"]
        return self._memoised("standin_model", lambda: self.store.cached_dir(
            "standin_model", config, (code_fingerprint("agser.acoustic.standin"),),
            lambda out: write_standin_wav2vec2(out, **config)))

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

        enc_params, key = self.encoder_params(), self.encoder_key()
        store = self.store

        def info():
            enc = make_encoder(enc_params)
            return {"sample_rate": int(enc.sample_rate), "frame_rate": float(enc.frame_rate),
                    "frame_offset": float(getattr(enc, "frame_offset", 0.0)),
                    "n_layers": int(enc.n_layers), "dim": int(enc.dim),
                    "layer_names": list(getattr(enc, "layer_names", range(enc.n_layers)))}

        meta = store.cached("encoder_info", key, (), info)
        code = code_fingerprint(*ENCODER_CODE)
        rows = self.manifest().to_dict("records")
        fn = functools.partial(_encode_row, enc_params=enc_params, sample_rate=meta["sample_rate"],
                               dtype=self.params["acoustic"]["dtype"])
        extract = self.params["extract"]
        result = map_cached(fn, rows, store=store, stage="encoded_utterance", params=key,
                            inputs=functools.partial(_encoder_inputs, code=code), workers=extract["workers"],
                            scheduler=extract["scheduler"], load=False, progress=self.progress)
        return {"features": StoredFeatures(store.root, result.values), "failures": result.failures,
                "digest": fingerprint([key, result.values, result.failures]), **meta}

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
        return self.store.cached("acoustic_segments", self.encoder_key(),
                                 (out / "segments.parquet", enc["digest"]), compute)

    # -- chapter measures (Corpora, chapters 2 and 5) -------------------------------------------------
    # Cached computations the book's chapters show and the glance page reuses; each delegates to a
    # pure function of agser.analysis.

    def corpus_measures(self):
        """Audio measures of every utterance (:func:`agser.analysis.corpora.file_measures`), cached.

        Returns
        -------
        dict
            ``features`` (n, 86), ``spectra`` (n, 257), ``durations`` (n,) s, in
            manifest order, and ``failures`` (``utterance_id, stage, reason``).
        """
        from agser.analysis.corpora import file_measures

        def compute():
            return self.store.cached("corpora-file-measures", {"version": 2, "data": self.params["data"]},
                                     (Path(self.manifest_path()),), lambda: file_measures(self.manifest()))

        features, spectra, durations, failures = self._memoised("corpus_measures", compute)
        return {"features": features, "spectra": spectra, "durations": durations, "failures": failures}

    def example_utterance(self):
        """Chapter 2's example: the first utterance that gave segments, its landmarks, mouth, phones and audio.

        Returns
        -------
        dict
            ``utterance_id``, ``row`` (manifest row), ``landmarks``, ``mouth``
            (:func:`agser.extract.utterance_gesture`), ``alignment`` (the phones
            the extraction used), ``audio`` (16 kHz, or None), ``pocketsphinx``
            (its alignment of the same audio where the row has a reference
            TextGrid, else None) and ``pocketsphinx_failure`` (why not, or "").
        """
        return self._memoised("example_utterance", self._example_utterance)

    def _example_utterance(self):
        from agser.extract import utterance_audio, utterance_gesture, utterance_phones

        uid = self.segments()[0]["utterance_id"].iloc[0]
        row = self.manifest().set_index("utterance_id").loc[uid].to_dict()
        row["utterance_id"] = uid
        files = tuple(Path(row[c]) for c in ("audio_path", "video_path", "landmarks_path", "alignment_path")
                      if row.get(c))
        ex = self.params["extract"]
        lm, mouth = self.store.cached("ch2-gesture", {"landmarks": ex["landmarks"], "version": 1}, files,
                                      lambda: utterance_gesture(row, landmarks=ex["landmarks"]))
        alignment = self.store.cached("ch2-phones", {"aligner": ex["aligner"], "version": 1}, files,
                                      lambda: utterance_phones(row, aligner=ex["aligner"]))
        try:
            audio = utterance_audio(row)
        except InputError:
            audio = None

        def pocketsphinx():
            from agser.phones import PocketsphinxAligner

            try:
                return PocketsphinxAligner(min_speech_score=None).align(audio, row["transcript"]), ""
            except InputError as exc:
                return None, exc.reason

        ps, why = (self.store.cached("ch2-pocketsphinx", {"version": 1}, files, pocketsphinx)
                   if audio is not None and row.get("alignment_path") else (None, ""))
        return {"utterance_id": uid, "row": row, "landmarks": lm, "mouth": mouth, "alignment": alignment,
                "audio": audio, "pocketsphinx": ps, "pocketsphinx_failure": why}

    def aligner_evaluation(self):
        """pocketsphinx against the run's reference alignments, cached.

        Returns
        -------
        dict
            ``phones``: :func:`agser.phones.evaluate.evaluate_aligner` on
            ``extract.aligner_eval_utterances`` rows with a reference TextGrid and
            audio (None where there are none, or the count is 0); ``words``:
            :func:`agser.analysis.segmentation.word_boundary_evaluation` (GRID's
            ``.align`` word alignments; empty where there are none).
        """
        return self._memoised("aligner_evaluation", self._aligner_evaluation)

    def _aligner_evaluation(self):
        from agser.analysis.segmentation import word_boundary_evaluation
        from agser.phones.evaluate import evaluate_aligner

        manifest, n = self.manifest(), int(self.params["extract"]["aligner_eval_utterances"])
        has_reference = bool(((manifest["alignment_path"] != "") & (manifest["audio_path"] != "")).any())
        phones = None
        if has_reference and n > 0:
            inputs = tuple(Path(p) for p in manifest["alignment_path"]) + tuple(Path(p) for p in manifest["audio_path"])
            phones = self.store.cached("ch2-aligner-eval", {"n": n, "seed": 0, "version": 2}, inputs,
                                       lambda: evaluate_aligner(manifest, n_utterances=n, seed=0))
        words = self.store.cached("ch2-word-eval", {"version": 1}, (Path(self.manifest_path()), self.input_digest()),
                                  lambda: word_boundary_evaluation(manifest))
        return {"phones": phones, "words": words}

    def ag_acoustic_association(self):
        """Chapter 5's analysis: the acoustic cluster model on every layer, and the association tests.

        The segments of :meth:`clusters` with a finite embedding of
        :meth:`acoustic_segments`; an acoustic k-means per layer
        (:func:`agser.analysis.association.association_by_layer`, 200 shuffles
        each), then on ``acoustic.association.layer`` the test against
        shuffled AG labels within each emotion and within each (emotion,
        corpus) (:func:`agser.analysis.association.association_test`).

        Returns
        -------
        dict
            ``segments`` (with ``acoustic_cluster``, from 1), ``per_layer``,
            ``result``, ``strict``, ``layer``, ``k_ag``, ``k_acoustic``,
            ``n_clustered``, ``n_failed_utterances``, ``emotions``, ``params``.
        """
        return self._memoised("ag_acoustic_association", self._ag_acoustic_association)

    def _ag_acoustic_association(self):
        from agser.analysis.association import association_by_layer, association_test

        ag, ac = self.clusters(), self.acoustic_segments()
        assoc = self.section("acoustic")["association"]
        names = [str(n) for n in ac["layer_names"]]
        layer = str(assoc["layer"]) if str(assoc["layer"]) in names else names[int(assoc["layer"])]
        emb = ac["embeddings"][ag["segments"]["row"].to_numpy()]
        ok = np.isfinite(emb).all(axis=(1, 2))
        segments, emb = ag["segments"][ok].reset_index(drop=True), emb[ok]
        k_ac = int(assoc["k"]) if assoc["k"] is not None else int(ag["k"])
        emotions = ["happiness", "anger", "sadness", "neutral"]
        test = {"n_acoustic": k_ac, "coverage": float(assoc["coverage"]), "random_state": int(assoc["seed"])}

        def compute():
            per_layer, labels = association_by_layer(segments, emb, names, k_ac, emotions=emotions,
                                                     coverage=test["coverage"], n_permutations=200,
                                                     random_state=test["random_state"])
            seg = segments.assign(acoustic_cluster=labels[layer])
            result = association_test(seg, emotions=emotions, n_permutations=int(assoc["n_permutations"]), **test)
            strict = association_test(seg, emotions=emotions, n_permutations=int(assoc["n_permutations"]),
                                      shuffle_within=("corpus",), **test)
            return {"segments": seg, "per_layer": per_layer, "result": result, "strict": strict}

        out = self.store.cached("ag_acoustic_association", {**assoc, "layer": layer, "k": k_ac},
                                (segments, emb, code_fingerprint("agser.analysis.association")), compute)
        return {**out, "layer": layer, "k_ag": int(ag["k"]), "k_acoustic": k_ac, "n_clustered": int(len(ok)),
                "n_failed_utterances": int(len(ac["failures"])), "emotions": emotions, "params": assoc}
