"""Artifact store: results keyed by stage, parameters and inputs.

Every write goes to a temporary name in the same folder and is then renamed,
so a run killed mid-way leaves either the whole artifact or none of it; the
next run recomputes only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

from agser.errors import ParameterError

__all__ = ["ArtifactStore", "code_fingerprint", "fingerprint", "sha256_file"]


def sha256_file(path):
    """SHA-256 hex digest of a file's bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_digest(path, _cache={}):
    """Content hash of a file, memoised by (path, inode, size, mtime, ctime)."""
    st = os.stat(path)
    # ctime and inode catch a same-size rewrite within one mtime tick
    memo = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if memo not in _cache:
        _cache[memo] = sha256_file(path)
    return _cache[memo]


def fingerprint(obj):
    """A stable hex digest of parameters or inputs.

    Files (``pathlib.Path``) are hashed by content, folders by the content of
    every file under them; arrays by their bytes, dtype and shape; DataFrames
    by their CSV text; other objects by canonical JSON.

    Examples
    --------
    >>> fingerprint({"k": 10, "gamma": 0.1}) == fingerprint({"gamma": 0.1, "k": 10})
    True
    """
    h = hashlib.sha256()

    def feed(o):
        if isinstance(o, Path):
            if o.is_dir():
                h.update(b"dir")
                for p in sorted(o.rglob("*")):
                    if p.is_file():
                        h.update(str(p.relative_to(o)).encode())
                        h.update(_file_digest(p).encode())
            elif o.is_file():
                h.update(b"file" + _file_digest(o).encode())
            else:
                raise ParameterError(f"input path {str(o)!r} does not exist")
        elif isinstance(o, np.ndarray):
            h.update(b"nd" + str(o.dtype).encode() + str(o.shape).encode())
            h.update(np.ascontiguousarray(o).tobytes())
        elif hasattr(o, "to_csv") and hasattr(o, "columns"):
            h.update(b"df" + o.to_csv(index=True).encode())
        elif isinstance(o, dict):
            h.update(b"{")
            for k in sorted(o, key=str):
                feed(str(k))
                feed(o[k])
            h.update(b"}")
        elif isinstance(o, (list, tuple)):
            h.update(b"[")
            for x in o:
                feed(x)
            h.update(b"]")
        else:
            h.update(json.dumps(o, sort_keys=True, default=str).encode())

    feed(obj)
    return h.hexdigest()


def code_fingerprint(*modules):
    """A digest of the Python source of modules and packages, for artifact keys.

    A stage whose output depends on code (the simulator, say) puts this among
    its inputs, so that a changed implementation is recomputed rather than
    served from an older artifact.

    Parameters
    ----------
    *modules : str
        Dotted names; a package stands for every ``.py`` file under it.

    Returns
    -------
    str
        Hex digest.

    Examples
    --------
    >>> code_fingerprint("agser.store") == code_fingerprint("agser.store")
    True
    """
    import importlib.util

    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ParameterError(f"module {name!r} not found")
        origin = Path(spec.origin)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for f in files:
            h.update(name.encode() + str(f.relative_to(origin.parent)).encode())
            h.update(_file_digest(f).encode())
    return h.hexdigest()


class ArtifactStore:
    """A folder of artifacts, one per (stage, parameters, inputs) key.

    Parameters
    ----------
    root : str or Path
        Folder that holds the artifacts; created when missing.

    Examples
    --------
    >>> import tempfile
    >>> store = ArtifactStore(tempfile.mkdtemp())
    >>> calls = []
    >>> def work():
    ...     calls.append(1)
    ...     return 42
    >>> store.cached("answer", {"x": 1}, (), work), store.cached("answer", {"x": 1}, (), work)
    (42, 42)
    >>> len(calls)
    1
    """

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def key(self, stage, params=None, inputs=()):
        """The key of an artifact: ``<stage>/<digest>``."""
        if not stage or "/" in stage:
            raise ParameterError(f"stage={stage!r} must be a non-empty name without '/'")
        return f"{stage}/{fingerprint([stage, params, inputs])[:24]}"

    def path(self, key):
        """Where the artifact of ``key`` lives (a file ``.pkl`` or a folder)."""
        return self.root / key

    def has(self, key):
        p = self.path(key)
        return (p.with_suffix(".pkl").is_file() or p.with_suffix(".npy").is_file()
                or (p.is_dir() and (p / ".complete").is_file()))

    def load(self, key, mmap=False):
        """The artifact of ``key``; an array artifact memory-mapped (read-only) with ``mmap``."""
        p = self.path(key)
        if p.with_suffix(".npy").is_file():
            return np.load(p.with_suffix(".npy"), mmap_mode="r" if mmap else None)
        with open(p.with_suffix(".pkl"), "rb") as f:
            return pickle.load(f)

    def save(self, key, value):
        """Write ``value`` atomically under ``key`` and return it.

        A numpy array is written as ``.npy`` (so that it can be memory-mapped
        and read by slices, :meth:`load` with ``mmap=True``); anything else is
        pickled.
        """
        array = isinstance(value, np.ndarray) and value.dtype != object
        suffix = ".npy" if array else ".pkl"
        target = self.path(key).with_suffix(suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                if array:
                    np.save(f, value, allow_pickle=False)
                else:
                    pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return value

    def cached(self, stage, params, inputs, fn):
        """Return the stored result of ``fn()`` for this key, computing it once.

        Parameters
        ----------
        stage : str
            Stage name, such as ``"landmarks"``.
        params : dict
            Everything that changes the result.
        inputs : sequence
            Input files (as ``Path``), arrays or values the result depends on.
        fn : callable
            Called with no argument when the artifact is missing.
        """
        key = self.key(stage, params, inputs)
        if self.has(key):
            return self.load(key)
        return self.save(key, fn())

    def cached_dir(self, stage, params, inputs, fn):
        """Return a folder filled once by ``fn(folder)``.

        ``fn`` writes into a temporary folder, which is renamed into place
        only when ``fn`` returns, so an interrupted call leaves nothing
        half-written under the key.
        """
        key = self.key(stage, params, inputs)
        final = self.path(key)
        if self.has(key):
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
        try:
            fn(tmp)
            (tmp / ".complete").write_text(key)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final
