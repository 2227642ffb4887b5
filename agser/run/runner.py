"""The one per-utterance runner: parallel, through the store, with failure rows.

Extraction, landmarks and the encoder pass are per-utterance stages: a pure
function of one manifest row. :func:`map_cached` runs such a function over
many rows in local processes or on a ``dask.distributed`` cluster
(:func:`agser.parallel.map_utterances`), stores each utterance's result on its
own (keyed by the stage, its parameters and the row's input files' content),
stores a bad utterance's :class:`~agser.errors.InputError` too (the same bytes
fail the same way), and returns the values with one failure table. A run
killed at any point keeps every utterance finished before it (each is written
atomically by the worker that computed it), so the next call resumes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from agser.errors import InputError, ParameterError

__all__ = ["StageResult", "map_cached"]

FAILURE_COLUMNS = ["utterance_id", "stage", "reason"]


@dataclass
class StageResult:
    """What a per-utterance stage gave.

    Attributes
    ----------
    values : dict
        ``utterance_id -> value`` for the utterances that succeeded, in row
        order; with ``load=False``, ``utterance_id -> store key`` instead.
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` of the others, in row order.
    keys : dict
        ``utterance_id -> store key`` of every utterance that has one.
    """

    values: dict
    failures: pd.DataFrame
    keys: dict


def _done(item, value):
    """A result of the parallel runner's shape for an item answered from the store."""
    from agser.parallel import Result

    return Result(_item_id(item), value=value)


def _item_id(item):
    """The utterance id of an item: a row, or a tuple whose first element is one."""
    return str(item["utterance_id"] if isinstance(item, dict) else item[0]["utterance_id"])


def _one(item, *, fn, store, stage, params, inputs, load):
    """Worker side: ``(uid, key, value or failure dict)`` of one item, computed and stored once.

    A success is stored under the stage's key (a numpy array as ``.npy``, so
    that it can be memory-mapped), a failure under the key of
    ``<stage>-failed``; so whether an utterance is done, and how, is known
    without reading its value.
    """
    uid = _item_id(item)
    try:
        key_inputs = inputs(item)
    except InputError as exc:
        # an input file that is missing cannot be keyed by its content: a failure, not stored
        return uid, None, {"stage": exc.stage or stage, "reason": exc.reason}
    key = store.key(stage, params, key_inputs)
    failed = store.key(f"{stage}-failed", params, key_inputs)
    if not store.has(key) and not store.has(failed):
        try:
            value = fn(item)
        except InputError as exc:
            store.save(failed, {"stage": exc.stage or stage, "reason": " ".join(str(exc.reason).split())})
        else:
            store.save(key, value)
            return uid, key, value if load else None
    if store.has(key):
        return uid, key, store.load(key) if load else None
    return uid, None, store.load(failed)


def map_cached(fn, items, *, store, stage, params, inputs, workers=1, scheduler=None,
               progress=False, load=True, mp_context=None):
    """Apply ``fn`` to each item through the store; values and failure rows.

    Parameters
    ----------
    fn : callable
        ``fn(item) -> value``, pure; raises :class:`~agser.errors.InputError`
        for a bad utterance. Picklable (module level or a
        ``functools.partial``) unless ``workers=1``.
    items : sequence
        Manifest rows (dicts with ``utterance_id``), or tuples whose first
        element is such a row.
    store : agser.store.ArtifactStore
    stage : str
        Stage name (store key prefix and the failure rows' stage).
    params : dict
        Everything besides the inputs that changes the result.
    inputs : callable
        ``inputs(item) -> tuple`` of what the result depends on (files as
        ``Path``, hashed by content); may raise InputError (a missing file).
    workers : int
        Local processes (1: in this process). Ignored with ``scheduler``.
    scheduler : str, optional
        A ``dask.distributed`` scheduler address.
    progress : bool
        Show a progress bar.
    load : bool
        Return the values (True) or only their store keys (False: for big
        values, read later one by one).
    mp_context : str, optional
        Start method of the local processes (see :func:`agser.parallel.map_utterances`).

    Returns
    -------
    StageResult

    Examples
    --------
    >>> import tempfile
    >>> from agser.store import ArtifactStore
    >>> def square(row):
    ...     if row["x"] < 0:
    ...         raise InputError("x is negative")
    ...     return row["x"] ** 2
    >>> rows = [{"utterance_id": "a", "x": 3}, {"utterance_id": "b", "x": -1}]
    >>> r = map_cached(square, rows, store=ArtifactStore(tempfile.mkdtemp()), stage="square",
    ...                params={}, inputs=lambda row: (row["x"],))
    >>> r.values, r.failures.to_dict("records")
    ({'a': 9}, [{'utterance_id': 'b', 'stage': 'square', 'reason': 'x is negative'}])
    """
    from agser.parallel import map_utterances

    items = list(items)
    if not stage or "/" in stage:
        raise ParameterError(f"stage={stage!r} must be a non-empty name without '/'")
    task = functools.partial(_one, fn=fn, store=store, stage=stage, params=params, inputs=inputs,
                             load=load)
    # What is already stored is read here; only the rest goes to worker processes (a rerun
    # of a finished stage starts no process at all).
    done, todo = {}, []
    for i, item in enumerate(items):
        try:
            key_inputs = inputs(item)
        except InputError:
            todo.append(i)  # the worker turns it into its failure row
            continue
        if store.has(store.key(stage, params, key_inputs)) or store.has(store.key(f"{stage}-failed", params,
                                                                                  key_inputs)):
            done[i] = task(item)
        else:
            todo.append(i)
    computed = map_utterances(task, [items[i] for i in todo], workers=workers, scheduler=scheduler,
                              progress=progress, desc=stage, stage=stage, key=_item_id, mp_context=mp_context)
    by_index = dict(zip(todo, computed))
    results = []
    for i, item in enumerate(items):
        if i in done:
            results.append(_done(item, done[i]))
        else:
            results.append(by_index[i])
    values, keys, failures = {}, {}, []
    for res in results:
        if not res.ok:
            # the worker itself failed (not an InputError of the stage): a failure row, not stored
            failures.append({"utterance_id": res.utterance_id, "stage": res.failure.stage,
                             "reason": res.failure.reason})
            continue
        uid, key, outcome = res.value
        if key is None:
            failures.append({"utterance_id": uid, **outcome})
            continue
        keys[uid] = key
        values[uid] = outcome if load else key
    return StageResult(values, pd.DataFrame(failures, columns=FAILURE_COLUMNS), keys)
