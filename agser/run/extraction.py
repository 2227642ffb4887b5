"""Extraction over a manifest: landmarks and segments, per utterance, through the runner.

Two per-utterance stages, both through :func:`agser.run.runner.map_cached`:

- ``landmarks``: the raw 68 points of a row (an OpenFace CSV, or dlib on the
  video), keyed by that file's content. dlib is slow, so it runs once per
  video: the extraction and the chapters that draw landmarks share it.
- ``extract-utt``: phones, eye alignment, mouth points, gap interpolation and
  segments of a row (:func:`agser.extract.extract_utterance`), keyed by the
  content of the row's files, its transcript and frame rate, and
  :data:`agser.extract.EXTRACTION_VERSION` (not by the code: editing code
  must not redo hours of dlib on a real corpus).

Failures of either stage are stored too and become rows of ``failures.csv``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from agser.errors import InputError

__all__ = ["cached_landmarks", "manifest_landmarks", "extract_manifest"]

#: Store stage of the landmarks.
LANDMARK_STAGE = "landmarks"


def _landmark_params(mode, row):
    from agser.extract import EXTRACTION_VERSION, landmark_source

    source, kind = landmark_source(row, mode)
    # a CSV's frame rate comes from the manifest when given: part of the key
    extra = str(row.get("frame_rate", "") or "") if kind == "openface" else ""
    return {"kind": kind, "version": EXTRACTION_VERSION}, (source, extra)


def _landmark_inputs(row, mode):
    return _landmark_params(mode, row)[1]


def _landmarks_of(row, mode):
    from agser.extract import utterance_landmarks

    return utterance_landmarks(row, landmarks=mode)


def cached_landmarks(row, *, store, mode="auto"):
    """The landmarks of one row through the store (computed once); raises InputError.

    Examples
    --------
    >>> import tempfile
    >>> from agser.store import ArtifactStore
    >>> cached_landmarks({"utterance_id": "u"}, store=ArtifactStore(tempfile.mkdtemp()))
    Traceback (most recent call last):
    ...
    agser.errors.InputError: no video_path to detect landmarks on
    """
    from agser.run.runner import _one

    params = {"mode": mode, **_landmark_params(mode, row)[0]}
    uid, key, value = _one(dict(row), fn=functools.partial(_landmarks_of, mode=mode), store=store,
                           stage=LANDMARK_STAGE, params=params,
                           inputs=functools.partial(_landmark_inputs, mode=mode), load=True)
    if key is None:
        raise InputError(value["reason"], stage=value["stage"])
    return value


def _landmarks_row(row, *, store, mode):
    return cached_landmarks(row, store=store, mode=mode)


def manifest_landmarks(manifest, *, store, landmarks="auto", workers=1, scheduler=None):
    """The landmarks of every row of a manifest (the ``landmarks`` stage), in parallel.

    Returns
    -------
    agser.run.runner.StageResult
        ``values``: ``utterance_id -> Landmarks`` (pixels); ``failures``.
    """
    from agser.corpora.manifest import read_manifest
    from agser.parallel import map_utterances
    from agser.run.runner import StageResult

    rows = read_manifest(manifest).to_dict("records")
    results = map_utterances(functools.partial(_landmarks_row, store=store, mode=landmarks), rows,
                             workers=workers, scheduler=scheduler, progress=False,
                             stage=LANDMARK_STAGE)
    import pandas as pd

    values = {r.utterance_id: r.value for r in results if r.ok}
    failures = pd.DataFrame([{"utterance_id": r.utterance_id, "stage": r.failure.stage,
                              "reason": r.failure.reason} for r in results if not r.ok],
                            columns=["utterance_id", "stage", "reason"])
    return StageResult(values, failures, {})


def _extract_row(row, *, store, params):
    """Worker side of the extraction: landmarks through their own stage, then segments."""
    from agser.extract import extract_utterance, utterance_phones

    # Phones first: a bad audio file or transcript fails in a fraction of a
    # second, before the far slower landmark detection.
    alignment = utterance_phones(row, aligner=params["aligner"],
                                 extra_pronunciations=params["extra_pronunciations"],
                                 min_speech_score=params["min_speech_score"], phone_set=params["phone_set"])
    lm = cached_landmarks(row, store=store, mode=params["landmarks"])
    return extract_utterance(row, lm=lm, alignment=alignment, **params)


def extract_manifest(manifest, out_dir, workers=None, scheduler=None, landmarks="auto",
                     aligner="auto", store=None, progress=True, max_gap=None,
                     extra_pronunciations=None, min_speech_score=-30.0, phone_set="auto",
                     pronunciations=None):
    """Landmarks, phones and gesture segments of every utterance of a manifest.

    Parameters
    ----------
    manifest : str, Path or pandas.DataFrame
        A ``manifest.csv`` (relative paths are taken from its folder) or a
        manifest table; validated first (an unknown emotion label, a missing
        column, ... stop at once with a ParameterError naming the row).
    out_dir : str or Path
        Output folder (created); see :mod:`agser.extract` for its files.
    workers : int, optional
        Local processes (``None`` = all cores; 1 = in this process).
    scheduler : str, optional
        ``dask.distributed`` scheduler address; utterances then run there.
    landmarks : {"auto", "openface", "dlib"}
        Landmark source, see :func:`agser.extract.utterance_landmarks`.
    aligner : {"auto", "textgrid", "pocketsphinx"}
        Phone source, see :func:`agser.extract.utterance_phones`.
    store : agser.store.ArtifactStore, optional
        Where per-utterance results are cached; default ``out_dir/cache``.
    progress : bool
        Show a tqdm progress bar.
    max_gap : int, optional
        Longest face gap to interpolate, in frames (default
        :data:`agser.gestures.missing.DEFAULT_MAX_GAP`).
    extra_pronunciations : dict, optional
        Pronunciations of out-of-vocabulary words (``{"word": "W ER1 D"}``).
    min_speech_score : float or None
        Transcript/audio mismatch threshold of the pocketsphinx aligner.
    phone_set : {"auto", "arpabet", "ipa"}
        Phone labels of the TextGrids (see :func:`agser.phones.textgrid.read_textgrid`).
    pronunciations : str or Path, optional
        A CMUdict-format file of out-of-vocabulary words
        (:func:`agser.phones.cmudict.read_pronunciations`); ``extra_pronunciations``
        win over it.

    Returns
    -------
    dict
        The summary written to ``summary.json`` (per corpus counts).

    Raises
    ------
    ParameterError
        Bad parameter, missing manifest, invalid manifest row.
    """
    import pandas as pd

    from agser.corpora.manifest import read_manifest, validate_manifest
    from agser.extract import EXTRACTION_VERSION, check_extract_params, extraction_inputs, write_extraction
    from agser.run.runner import map_cached
    from agser.store import ArtifactStore

    check_extract_params(landmarks, aligner, workers)
    df = validate_manifest(manifest) if isinstance(manifest, pd.DataFrame) else read_manifest(manifest)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = store if store is not None else ArtifactStore(out / "cache")
    words = {}
    if pronunciations:
        from agser.phones.cmudict import read_pronunciations

        words = read_pronunciations(pronunciations)
    words.update({str(w).lower(): p for w, p in dict(extra_pronunciations or {}).items()})
    params = {"landmarks": landmarks, "aligner": aligner, "max_gap": max_gap,
              "extra_pronunciations": words, "min_speech_score": min_speech_score,
              "phone_set": phone_set}
    rows = df.to_dict("records")
    result = map_cached(functools.partial(_extract_row, store=store, params=params), rows, store=store,
                        stage="extract-utt", params={**params, "version": EXTRACTION_VERSION},
                        inputs=extraction_inputs, workers=workers, scheduler=scheduler,
                        progress=progress)
    return write_extraction(out, rows, result.values, result.failures)
