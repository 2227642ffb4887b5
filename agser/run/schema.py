"""The parameters of a run: one schema, every default once, unknown keys rejected.

A run's ``papermill_runs/NAME/params.yaml`` holds::

    description: one paragraph shown in the introduction
    parameters:         # overrides of the defaults below, section by section
      cluster: {k_range: [2, 6]}
    chapters: [intro, ch3_clustering]   # optional: build only these

:data:`SCHEMA` is the only home of the defaults. :func:`resolve_params` merges a
run's overrides into it and checks every key and value *before any work*: a
misspelt or unknown key, or a value of the wrong type, raises
:class:`~agser.errors.ParameterError` naming the key and its section (with the
nearest known key as a suggestion). Every entry point (``agser book``,
``agser train``, the other subcommands, the chapters) reads parameters only
through this module.

The estimators (:class:`agser.clustering.SoftDTWKMeans`,
:class:`agser.ser.SERClassifier`, ...) keep library defaults of their own, as
scikit-learn's do; a run passes them every value from here.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agser.errors import ParameterError

__all__ = ["Key", "SCHEMA", "TOP_LEVEL_KEYS", "defaults", "resolve_params", "read_params_file",
           "describe"]


@dataclass(frozen=True)
class Key:
    """One parameter: its default, what values it takes, and what it means.

    Parameters
    ----------
    default : object
        The value a run gets when its params.yaml does not set the key.
    kind : type or tuple of types
        Accepted types (``float`` also takes ``int``; ``bool`` is never an ``int``).
    doc : str
        One line: meaning and units.
    choices : tuple, optional
        The allowed values (for a ``str`` key).
    nullable : bool
        Whether ``null`` (None) is allowed.
    item : type, optional
        Type of each element of a ``list`` value.
    length : int, optional
        Required length of a ``list`` value.
    """

    default: Any
    kind: Any
    doc: str
    choices: tuple = None
    nullable: bool = False
    item: Any = None
    length: int = None


def _num(default, doc, kind=float, nullable=False):
    return Key(default, kind, doc, nullable=nullable)


#: Every section of a run's parameters, with every key's default.
SCHEMA = {
    "data": {
        "source": Key("simulate", str, "where the corpora come from: the simulator, the real sample clips, "
                                       "a manifest, or the simulator's corpora laid out as the CREMA-D and "
                                       "MSP-IMPROV releases and read back by their adapters (standin)",
                      choices=("simulate", "samples", "manifest", "standin")),
        "seed": Key(0, int, "simulator seed"),
        "utterances_per_corpus": Key(120, int, "simulated utterances per corpus"),
        "simulator": Key({}, dict, "keyword arguments of agser.corpora.simulator.simulate (domain-shift "
                                   "knobs: shift, snr_db, rt60_s, band_hz, speakers_per_corpus, ...)"),
        "manifest": Key(None, str, "manifest CSV of the corpora (source: manifest)", nullable=True),
        "grid_dir": Key(None, str, "folder of GRID clips added to the samples (source: samples), "
                                   "relative to the book root", nullable=True),
    },
    "extract": {
        "landmarks": Key("auto", str, "auto: OpenFace CSV where the manifest names one, else dlib",
                         choices=("auto", "openface", "dlib")),
        "aligner": Key("auto", str, "auto: TextGrid where the manifest names one, else pocketsphinx",
                       choices=("auto", "textgrid", "pocketsphinx")),
        "workers": Key(2, int, "local worker processes"),
        "scheduler": Key(None, str, "dask.distributed scheduler address (tcp://host:8786)", nullable=True),
        "max_gap": Key(None, int, "longest face gap interpolated, frames (null: the package default)",
                       nullable=True),
        "min_speech_score": Key(-30.0, float, "pocketsphinx transcript/audio mismatch threshold",
                                nullable=True),
        "phone_set": Key("auto", str, "phone labels of the TextGrids: auto (detected per file), "
                                      "arpabet, or ipa (MFA 3's english_mfa model)",
                         choices=("auto", "arpabet", "ipa")),
        "pronunciations": Key(None, str, "CMUdict-format file of pronunciations of out-of-vocabulary "
                                         "words, relative to the book root", nullable=True),
        "aligner_eval_utterances": Key(20, int, "chapter 2: utterances on which pocketsphinx is "
                                                "compared with the reference TextGrids (0: skip)"),
    },
    "cluster": {
        "k_range": Key([2, 12], list, "elbow search over k = a..b, inclusive (the paper found 10)",
                       item=int, length=2),
        "k": Key(None, int, "clusters; null: the elbow's k (Kneedle rule)", nullable=True),
        # tslearn's default. Squared distances between vowel frames are ~0.03-0.4
        # (IPD units^2), so soft-DTW is far from hard DTW at gamma = 1.
        "gamma": _num(1.0, "soft-DTW smoothing, squared inter-pupil distances"),
        "max_iter": Key(30, int, "k-means iterations of the final fit"),
        "n_init": Key(1, int, "independent seedings of each fit"),
        "tol": _num(1e-4, "stop when the inertia (mean soft-DTW) changes by less"),
        "seed": Key(0, int, "seed of the k-means++ seeding and of the sub-samples"),
        "phones": Key("vowels", (str, list), "vowels | paper_vowels | all | a list of IPA phones"),
        "emotions": Key(["neutral", "anger", "happiness", "sadness"], list,
                        "emotions clustered in chapters 3-5 (null: every segment)", nullable=True, item=str),
        # Exact settings: on the default run's 1600 vowel segments the elbow search
        # k = 2..12 takes about 9 s and the final fit about 1 s (2-core machine).
        "elbow_max_segments": Key(None, int, "seeded sub-sample for the elbow fits (null: all)",
                                  nullable=True),
        "elbow_max_iter": Key(20, int, "k-means iterations of each elbow fit"),
        "fit_max_segments": Key(None, int, "sub-sample of the final fit (null: all); all are then "
                                           "assigned", nullable=True),
        "barycenter_sample": Key(None, int, "members per cluster in a barycentre update (null: all)",
                                 nullable=True),
        "max_iter_barycenter": Key(100, int, "L-BFGS steps per barycentre update (tslearn's 100)"),
        "backend": Key("auto", str, "soft-DTW implementation: auto = the fused numba kernels on the CPU, "
                                    "the batched torch programme on CUDA; tslearn: the reference",
                       choices=("auto", "numba", "torch", "tslearn")),
        "gestures": Key("speaker-free", str, "gestures clustered: as the paper preprocesses them, or with "
                                             "each speaker's mean mouth shape removed (beyond the paper; "
                                             "chapter 3 shows why it is the default)",
                        choices=("paper", "speaker-free")),
        "dtype": Key("float32", str, "soft-DTW precision of the torch backend (numba computes in float64)",
                     choices=("float32", "float64")),
    },
    "acoustic": {
        "encoder": Key("logmel", str, "logmel: the built-in log-mel encoder; hf: a Hugging Face "
                                      "wav2vec2 / HuBERT / WavLM checkpoint", choices=("logmel", "hf")),
        "options": Key({}, dict, "keyword arguments of the encoder (LogMelEncoder: n_mels, fmin, "
                                 "fmax; HFEncoder: name_or_path, layers (only those are stored), device, ...)"),
        "dtype": Key("float32", str, "precision of the stored frame features (float16 halves the disk)",
                     choices=("float32", "float16")),
        "standin_model": Key(None, dict, "hf only: write a small wav2vec2 of this configuration (seeded "
                                         "random weights) and use it as the checkpoint (the paper-standin "
                                         "run); null: acoustic.options.name_or_path", nullable=True),
        "association": {
            # utterance-mean-normalised log mel: removes channel offsets between corpora
            "layer": Key("cmn", (str, int), "encoder layer (name or index) of the acoustic cluster model"),
            "k": Key(None, int, "acoustic clusters (null: the AG model's k)", nullable=True),
            "coverage": _num(0.9, "share of an AG cluster its 'n90' acoustic clusters hold"),
            "n_permutations": Key(1000, int, "shuffled-AG-label baseline draws"),
            "seed": Key(0, int, "seed of the acoustic k-means and the permutations"),
        },
    },
    "ser": {
        "seeds": Key([0, 1, 2, 3, 4], list, "seeds of the SER tables: speaker splits, init, batches, "
                                            "triplets", item=int),
        "frame_pool": Key(4, int, "encoder frames averaged into one (log-mel 100 Hz -> 25 Hz)"),
        "hidden": Key(32, int, "units of the trainable frame network"),
        "n_conv": Key(1, int, "1-D convolutions after the input projection"),
        "kernel": Key(5, int, "convolution width, frames"),
        "dropout": _num(0.1, "dropout of the frame network and classifier"),
        "normalize": Key("speaker", str, "z-score features per speaker (speaker ids only), per "
                                         "utterance, or not at all",
                         choices=("speaker", "utterance", "none")),
        "batch_size": Key(32, int, "source utterances per training step (and target utterances)"),
        "max_epochs": Key(40, int, "epochs at most; early stopping on held-out source speakers picks "
                                   "the best"),
        "patience": Key(6, int, "epochs without a better validation UAR before stopping"),
        "val_fraction": _num(0.2, "share of a training pool's speakers held out for early stopping"),
        "lr": _num(0.003, "Adam learning rate"),
        "weight_decay": _num(1e-4, "Adam weight decay"),
        "gamma": _num(1.0, "L = L_ER + gamma * L_extra, fixed before any target result"),
        "margin": _num(0.5, "triplet margin, squared distance of unit vectors (0..4), fixed a priori"),
        "threshold": _num(25.0, "overlap s_i (%) below which an AG cluster gives no anchors (the paper's)"),
        "max_triplets": Key(1024, int, "triplets per step at most"),
        "la_layers": Key(2, int, "encoder layers LA also aligns on their own"),
        "la_select": Key("least-similar", str, "which layers LA aligns",
                         choices=("least-similar", "most-similar")),
        "sdtw_gamma": _num(1.0, "Hard-AG: soft-DTW smoothing of the gesture divergence"),
        "test_fraction": _num(0.5, "share of the target corpus' speakers in its test half"),
        "ub_folds": Key(2, int, "folds of the test speakers in the upper bound's cross-validation"),
        "device": Key("auto", str, "auto: CUDA when torch sees one, else the CPU",
                      choices=("auto", "cpu", "cuda")),
        "num_workers": Key(0, int, "data-loader worker processes (0: read in the training process)"),
        "parallel_runs": Key(2, int, "SER runs trained side by side in local processes (CPU)"),
        "threads": Key(1, int, "torch CPU threads of one training run"),
        "finetune_top": Key(0, int, "top encoder blocks fine-tuned with the head (hf encoder only)"),
        "finetune_lr": _num(1e-4, "learning rate of the fine-tuned blocks"),
        "sweep_seeds": Key([0], list, "seeds of the gamma sweep", item=int),
        "gamma_sweep": Key([0.3, 3.0], list, "AG's gammas of the sweep, besides ser.gamma (shown after "
                                              "the table, never used to choose gamma)", item=float),
    },
    "controls": {
        "conditions": Key({}, dict, "simulator conditions of the controls run: name -> data.simulator "
                                    "overrides (empty: the run itself, condition 'default')"),
        "calibrate": Key(None, str, "the condition whose channel damage is set by calibration (null: none)",
                         nullable=True),
        "damaged": Key([], list, "conditions that get the calibrated channel damage", item=str),
        "damage_grid": Key([1.0, 2.0, 3.0], list, "channel-damage strengths tried, in order", item=float),
        "min_gap": _num(8.0, "calibration: the smallest damage that adds at least this many UAR points to "
                             "source-only's loss against the upper bound (mean of both directions)"),
        "calibration_seeds": Key([100, 101], list, "split seeds of the calibration (not the evaluation "
                                                   "seeds)", item=int),
    },
}

#: Keys a params.yaml may hold at its top level.
TOP_LEVEL_KEYS = ("description", "parameters", "chapters")


def _is_schema(node):
    return isinstance(node, dict) and all(isinstance(v, (Key, dict)) for v in node.values()) \
        and not isinstance(node, Key)


def defaults(node=None):
    """The default parameters: ``{section: {key: default}}`` (a fresh copy).

    Examples
    --------
    >>> defaults()["cluster"]["k_range"]
    [2, 12]
    """
    node = SCHEMA if node is None else node
    return {name: defaults(sub) if not isinstance(sub, Key) else copy.deepcopy(sub.default)
            for name, sub in node.items()}


def _unknown(where, key, known):
    near = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    section = where or "the top level"
    return ParameterError(f"{where + '.' if where else ''}{key} is not a parameter of "
                          f"{'section ' + repr(where) if where else section}{hint} "
                          f"(known: {', '.join(map(str, known))})")


def _type_name(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             list: "a list", dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _is_a(value, kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if k is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if k is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if k not in (int, float) and isinstance(value, k):
            return True
    return False


def _check_value(name, spec, value):
    if value is None:
        if spec.nullable:
            return None
        raise ParameterError(f"{name}=null is not allowed: it must be {_type_name(spec.kind)}")
    if not _is_a(value, spec.kind):
        hint = ""
        if isinstance(value, str) and _is_a(1.0, spec.kind):
            try:
                float(value)
                hint = " (YAML reads a number such as 1e-4 as text: write 1.0e-4)"
            except ValueError:
                pass
        raise ParameterError(f"{name}={value!r} must be {_type_name(spec.kind)}{hint}")
    if spec.choices is not None and isinstance(value, str) and value not in spec.choices:
        raise ParameterError(f"{name}={value!r} must be one of {', '.join(map(repr, spec.choices))}")
    if isinstance(value, list):
        if spec.length is not None and len(value) != spec.length:
            raise ParameterError(f"{name}={value!r} must be a list of {spec.length} values")
        if spec.item is not None:
            for v in value:
                if not _is_a(v, spec.item):
                    raise ParameterError(f"{name}={value!r}: element {v!r} must be {_type_name(spec.item)}")
            if spec.item is float:
                value = [float(v) for v in value]
    if spec.kind is float and isinstance(value, int):
        value = float(value)
    return copy.deepcopy(value)


def _merge(where, schema, given):
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ParameterError(f"{where}={given!r} must be a mapping of parameters")
    out = {}
    for key in given:
        if key not in schema:
            raise _unknown(where, key, schema)
    for key, spec in schema.items():
        name = f"{where}.{key}" if where else key
        if isinstance(spec, Key):
            out[key] = _check_value(name, spec, given[key]) if key in given else copy.deepcopy(spec.default)
        else:
            out[key] = _merge(name, spec, given.get(key))
    return out


def _check_simulator(knobs, where="data.simulator"):
    from agser.corpora.simulator import simulate

    signature = inspect.signature(simulate).parameters
    allowed = [p for p in signature if p not in ("out_dir", "seed", "utterances_per_corpus")]
    for key, value in knobs.items():
        if key not in allowed:
            raise _unknown(where, key, allowed)
        if isinstance(signature[key].default, bool):
            if not isinstance(value, bool):
                raise ParameterError(f"{where}.{key}={value!r} must be true or false")
            continue
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if v is not None and not _is_a(v, float):
                raise ParameterError(f"{where}.{key}={value!r} must be a number or a "
                                     "mapping {corpus: number}")


def _check_encoder_options(encoder, options):
    if encoder == "logmel":
        from agser.acoustic.logmel import LogMelEncoder as cls
    else:
        from agser.acoustic.hf import HFEncoder as cls
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in options:
        if key not in allowed:
            err = _unknown("acoustic.options", key, allowed)
            raise ParameterError(f"{err} (for acoustic.encoder: {encoder})") from None


def _check_phones(value):
    if isinstance(value, str) and value not in ("vowels", "paper_vowels", "all"):
        raise ParameterError(f"cluster.phones={value!r} must be vowels, paper_vowels, all or a list of IPA phones")
    if isinstance(value, list) and not all(isinstance(p, str) for p in value):
        raise ParameterError(f"cluster.phones={value!r} must list IPA phones as strings")


def _check_ranges(p):
    lo, hi = p["cluster"]["k_range"]
    if not 1 <= lo <= hi:
        raise ParameterError(f"cluster.k_range={[lo, hi]!r} must be [a, b] with 1 <= a <= b")
    if p["cluster"]["k"] is not None and p["cluster"]["k"] < 1:
        raise ParameterError(f"cluster.k={p['cluster']['k']!r} must be >= 1")
    positive = [("data", "utterances_per_corpus"), ("extract", "workers"), ("cluster", "max_iter"),
                ("cluster", "n_init"), ("cluster", "elbow_max_iter"), ("cluster", "max_iter_barycenter"),
                ("ser", "frame_pool"), ("ser", "hidden"), ("ser", "max_epochs"), ("ser", "patience"),
                ("ser", "batch_size"), ("ser", "threads"), ("ser", "max_triplets"), ("ser", "la_layers"),
                ("ser", "ub_folds"), ("ser", "parallel_runs")]
    for section, key in positive:
        if p[section][key] < 1:
            raise ParameterError(f"{section}.{key}={p[section][key]!r} must be >= 1")
    if not 0.0 < p["ser"]["test_fraction"] < 1.0:
        raise ParameterError(f"ser.test_fraction={p['ser']['test_fraction']!r} must lie in (0, 1)")
    if p["ser"]["finetune_top"] < 0:
        raise ParameterError(f"ser.finetune_top={p['ser']['finetune_top']!r} must be >= 0")
    if p["ser"]["finetune_top"] and p["acoustic"]["encoder"] != "hf":
        raise ParameterError(f"ser.finetune_top={p['ser']['finetune_top']} needs acoustic.encoder: hf")
    if not p["ser"]["seeds"]:
        raise ParameterError("ser.seeds=[] must list at least one seed")
    if not 0.0 < p["ser"]["val_fraction"] < 1.0:
        raise ParameterError(f"ser.val_fraction={p['ser']['val_fraction']!r} must lie in (0, 1)")
    if p["ser"]["num_workers"] < 0:
        raise ParameterError(f"ser.num_workers={p['ser']['num_workers']!r} must be >= 0")
    conditions = p["controls"]["conditions"]
    for name, knobs in conditions.items():
        if not isinstance(knobs, dict):
            raise ParameterError(f"controls.conditions.{name}={knobs!r} must be a mapping of "
                                 "data.simulator overrides")
        _check_simulator(knobs, f"controls.conditions.{name}")
    if p["controls"]["calibrate"] is not None and p["controls"]["calibrate"] not in conditions:
        raise ParameterError(f"controls.calibrate={p['controls']['calibrate']!r} is not one of "
                             f"controls.conditions ({', '.join(conditions) or 'none'})")
    for name in p["controls"]["damaged"]:
        if name not in conditions:
            raise ParameterError(f"controls.damaged: {name!r} is not one of controls.conditions "
                                 f"({', '.join(conditions) or 'none'})")


def resolve_params(overrides=None):
    """A run's full parameters: the defaults of :data:`SCHEMA` with ``overrides`` applied.

    Parameters
    ----------
    overrides : dict, optional
        ``{section: {key: value}}``, as under ``parameters:`` in a params.yaml.

    Returns
    -------
    dict
        Every section and key of :data:`SCHEMA` (a fresh, deep copy).

    Raises
    ------
    ParameterError
        An unknown section or key (the message names it, its section and the
        nearest known key), a value of the wrong type or out of range.

    Examples
    --------
    >>> resolve_params({"cluster": {"k": 4}})["cluster"]["k"]
    4
    >>> resolve_params({"cluster": {"gammma": 1.0}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: cluster.gammma is not a parameter of section 'cluster'; did you mean 'gamma'? (known: k_range, k, gamma, ...)
    >>> resolve_params({"cluster": {"max_iter": "30"}})
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: cluster.max_iter='30' must be an integer
    """
    params = _merge("", SCHEMA, overrides)
    _check_simulator(params["data"]["simulator"])
    _check_encoder_options(params["acoustic"]["encoder"], params["acoustic"]["options"])
    _check_phones(params["cluster"]["phones"])
    _check_ranges(params)
    return params


def read_params_file(path):
    """Read and check a params.yaml: ``{"parameters", "description", "chapters", "path"}``.

    ``parameters`` is resolved (:func:`resolve_params`); an unknown top-level
    key is an error too.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"params file {str(path)!r} does not exist")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise ParameterError(f"{path} must hold a mapping with a 'parameters:' key")
    for key in spec:
        if key not in TOP_LEVEL_KEYS:
            raise ParameterError(f"{path}: {_unknown('', key, TOP_LEVEL_KEYS)}")
    chapters = spec.get("chapters")
    if chapters is not None and (not isinstance(chapters, list)
                                 or not all(isinstance(c, str) for c in chapters)):
        raise ParameterError(f"{path}: 'chapters' must be a list of chapter names, got {chapters!r}")
    try:
        params = resolve_params(spec.get("parameters"))
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    return {"parameters": params, "overrides": spec.get("parameters") or {},
            "description": " ".join(str(spec.get("description") or "").split()),
            "chapters": chapters, "path": path}


def describe(node=None, where=""):
    """Every key with its default and meaning, one line each (``agser params --list``).

    Examples
    --------
    >>> print(describe().splitlines()[0])  # doctest: +ELLIPSIS
    data.source = 'simulate'  # where the corpora come from... (one of 'simulate', 'samples', 'manifest'...)
    """
    node = SCHEMA if node is None else node
    lines = []
    for key, spec in node.items():
        name = f"{where}.{key}" if where else key
        if isinstance(spec, Key):
            extra = f" (one of {', '.join(map(repr, spec.choices))})" if spec.choices else ""
            lines.append(f"{name} = {spec.default!r}  # {spec.doc}{extra}")
        else:
            lines.append(describe(spec, name))
    return "\n".join(lines)
