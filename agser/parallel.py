"""Run a per-utterance stage over many utterances, locally or on a dask cluster.

Bad input never stops a run: each item gives a :class:`Result` that holds
either the value or a :class:`Failure` (utterance id, stage, one-line
reason). An :class:`agser.errors.InputError` becomes a failure with its own
reason and stage; any other exception becomes a failure whose reason starts
with the exception type (and whose ``detail`` keeps the traceback), and is
logged as a warning, so nothing is silently swallowed. A worker process that
dies (a crash in native code) becomes a failure of the item it was running,
and the rest of the run goes on in a fresh process.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

from agser.errors import InputError, ParameterError

__all__ = ["Failure", "Result", "map_utterances", "failures_frame", "item_id"]

log = logging.getLogger(__name__)

FAILURE_COLUMNS = ("utterance_id", "stage", "reason")


@dataclass(frozen=True)
class Failure:
    """One utterance that a stage could not process.

    Attributes
    ----------
    utterance_id : str
    stage : str
        The stage that failed (``"landmarks"``, ``"phones"``, ...).
    reason : str
        One line saying what went wrong.
    detail : str
        Traceback for unexpected errors, empty for :class:`InputError`.
    """

    utterance_id: str
    stage: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Result:
    """The outcome of one item: ``value`` when ``ok``, else ``failure``."""

    utterance_id: str
    value: Any = None
    failure: Failure | None = None

    @property
    def ok(self):
        return self.failure is None


def item_id(item):
    """The utterance id of an item: its ``utterance_id`` key or attribute, else ``str(item)``.

    Examples
    --------
    >>> item_id({"utterance_id": "u7", "video_path": "x.flv"}), item_id("u8")
    ('u7', 'u8')
    """
    if isinstance(item, Mapping) and "utterance_id" in item:
        return str(item["utterance_id"])
    uid = getattr(item, "utterance_id", None)
    if uid is not None:
        return str(uid)
    if isinstance(item, pd.Series) and "utterance_id" in item.index:
        return str(item["utterance_id"])
    return str(item)


def _one_line(text):
    return " ".join(str(text).split())


def _call(fn, item, stage, key=None):
    """Run ``fn(item)`` and wrap the outcome; runs in the worker."""
    uid = key(item) if key is not None else item_id(item)
    try:
        return Result(uid, value=fn(item))
    except InputError as exc:
        return Result(uid, failure=Failure(uid, exc.stage or stage, _one_line(exc.reason)))
    except Exception as exc:  # noqa: BLE001 - turned into a failure row, never dropped
        reason = _one_line(f"{type(exc).__name__}: {exc}")
        return Result(uid, failure=Failure(uid, stage, reason, detail=traceback.format_exc()))


def _call_item(item, *, fn, stage, key=None):
    """``_call`` with the item first, for ``functools.partial`` and ``Client.map``."""
    return _call(fn, item, stage, key)


def _stage_name(fn, stage):
    if stage:
        return str(stage)
    return getattr(fn, "__name__", None) or type(fn).__name__


def _progress(total, progress, desc):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


def map_utterances(
    fn, items, *, workers=None, scheduler=None, progress=True, desc=None, stage=None,
    key=None, mp_context=None,
):
    """Apply ``fn`` to each item; results in input order, failures recorded.

    Parameters
    ----------
    fn : callable
        ``fn(item) -> value``. Must be picklable (a module-level function or
        a ``functools.partial`` of one) unless ``workers=1``.
    items : iterable
        One item per utterance (a dict or row with ``utterance_id``, or any
        value whose ``str`` is its id; see ``key``).
    workers : int, optional
        Local worker processes; ``None`` = ``os.cpu_count()``; ``1`` runs in
        this process (for debugging and tests). Ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of a ``dask.distributed`` scheduler (``"tcp://host:8786"``),
        or a connected client; when given, items run on that cluster.
    progress : bool
        Show a tqdm progress bar.
    desc : str, optional
        Label of the progress bar.
    stage : str, optional
        Stage name of failure rows (default: ``fn``'s name). An
        :class:`InputError` with its own ``stage`` keeps it.
    key : callable, optional
        ``key(item) -> utterance id`` (default :func:`item_id`).
    mp_context : str, optional
        Start method of the local processes (``"fork"``, ``"spawn"``,
        ``"forkserver"``); default: the platform's.

    Returns
    -------
    list of Result
        ``len(items)`` results, in the order of ``items``.

    Examples
    --------
    >>> import math
    >>> rs = map_utterances(math.sqrt, [4.0, -1.0], workers=1, progress=False, stage="root")
    >>> rs[0].value, rs[1].failure.reason
    (2.0, 'ValueError: math domain error')
    """
    items = list(items)
    stage = _stage_name(fn, stage)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers={workers!r} must be a positive integer or None")
    if not items:
        return []
    if scheduler is not None:
        return _map_dask(fn, items, scheduler, progress, desc, stage, key)
    n = workers or os.cpu_count() or 1
    if n == 1:
        out = []
        with _progress(len(items), progress, desc) as bar:
            for item in items:
                out.append(_call(fn, item, stage, key))
                bar.update(1)
        _log_unexpected(out)
        return out
    return _map_processes(fn, items, min(n, len(items)), progress, desc, stage, key, mp_context)


def _pool(n, mp_context):
    import multiprocessing

    ctx = multiprocessing.get_context(mp_context) if mp_context else None
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx)


def _map_processes(fn, items, n, progress, desc, stage, key, mp_context):
    import pickle

    for name, obj in (("fn", fn), ("key", key)):
        try:
            pickle.dumps(obj)
        except Exception as exc:  # noqa: BLE001 - re-raised as a parameter error
            raise ParameterError(
                f"{name}={obj!r} cannot be sent to worker processes ({type(exc).__name__}: {exc}); "
                "use a module-level function (or functools.partial of one), or workers=1"
            ) from exc
    results = [None] * len(items)
    pending = list(range(len(items)))
    with _progress(len(items), progress, desc) as bar:
        with _pool(n, mp_context) as pool:
            futures = {pool.submit(_call, fn, items[i], stage, key): i for i in pending}
            broken = []
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                    bar.update(1)
                except BrokenProcessPool:
                    broken.append(i)
                except Exception as exc:  # noqa: BLE001 - the item or its value could not be pickled
                    uid = key(items[i]) if key is not None else item_id(items[i])
                    reason = _one_line(f"could not pass it to or from a worker process: "
                                       f"{type(exc).__name__}: {exc}")
                    log.warning("%s: %s", uid, reason)
                    results[i] = Result(uid, failure=Failure(uid, stage, reason))
                    bar.update(1)
        # A dead worker breaks the whole pool and fails every unfinished item;
        # rerun those one at a time so only the item that kills a process fails.
        for i in sorted(broken):
            with _pool(1, mp_context) as pool:
                try:
                    results[i] = pool.submit(_call, fn, items[i], stage, key).result()
                except BrokenProcessPool as exc:
                    uid = key(items[i]) if key is not None else item_id(items[i])
                    reason = f"worker process died while processing it ({exc})"
                    log.warning("%s: %s", uid, reason)
                    results[i] = Result(uid, failure=Failure(uid, stage, _one_line(reason)))
            bar.update(1)
    _log_unexpected(results)
    return results


def _map_dask(fn, items, scheduler, progress, desc, stage, key):
    from functools import partial

    from distributed import Client, as_completed as dask_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        task = partial(_call_item, fn=fn, stage=stage, key=key)
        futures = client.map(task, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(items)
        with _progress(len(items), progress, desc) as bar:
            for fut in dask_completed(futures):
                i = index[fut.key]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: a failure row
                    uid = key(items[i]) if key is not None else item_id(items[i])
                    reason = _one_line(f"{type(exc).__name__}: {exc}")
                    results[i] = Result(uid, failure=Failure(uid, stage, reason))
                bar.update(1)
    finally:
        if own:
            client.close()
    _log_unexpected(results)
    return results


def _log_unexpected(results):
    for r in results:
        if r is not None and r.failure is not None and r.failure.detail:
            log.warning("%s failed at %s: %s", r.utterance_id, r.failure.stage, r.failure.reason)


def failures_frame(failures):
    """A table of failures: ``utterance_id, stage, reason``.

    Parameters
    ----------
    failures : iterable of Failure or Result
        Results that succeeded are skipped.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> failures_frame([Failure("u1", "landmarks", "no face in any frame")])
      utterance_id      stage                reason
    0           u1  landmarks  no face in any frame
    """
    rows = []
    for f in failures:
        if isinstance(f, Result):
            f = f.failure
        if f is None:
            continue
        rows.append({"utterance_id": f.utterance_id, "stage": f.stage, "reason": f.reason})
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))
