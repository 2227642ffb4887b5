"""One entry point for every corpus adapter."""

from __future__ import annotations

from agser.errors import ParameterError

__all__ = ["ADAPTERS", "build_manifest"]

#: kind -> (module, function)
ADAPTERS = {
    "crema-d": ("agser.corpora.cremad", "cremad_manifest"),
    "msp-improv": ("agser.corpora.mspimprov", "mspimprov_manifest"),
    "grid": ("agser.corpora.grid", "grid_manifest"),
    "csv": ("agser.corpora.csv_manifest", "csv_manifest"),
}


def build_manifest(kind, root, **options):
    """Build a manifest from a corpus tree (or, for ``kind="csv"``, a CSV file).

    Parameters
    ----------
    kind : {"crema-d", "msp-improv", "grid", "csv"}
        The corpus layout.
    root : str or Path
        The corpus folder, or the CSV file for ``"csv"``.
    **options
        Passed to the adapter (:func:`~agser.corpora.cremad.cremad_manifest`,
        :func:`~agser.corpora.mspimprov.mspimprov_manifest`,
        :func:`~agser.corpora.grid.grid_manifest`,
        :func:`~agser.corpora.csv_manifest.csv_manifest`).

    Returns
    -------
    pandas.DataFrame
        A validated manifest.

    Examples
    --------
    >>> build_manifest("timit", ".")
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: kind='timit' must be one of crema-d, msp-improv, grid, csv
    """
    import importlib
    import inspect

    if kind not in ADAPTERS:
        raise ParameterError(f"kind={kind!r} must be one of {', '.join(ADAPTERS)}")
    module, name = ADAPTERS[kind]
    fn = getattr(importlib.import_module(module), name)
    accepted = list(inspect.signature(fn).parameters)[1:]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ParameterError(
            f"corpus kind {kind!r} takes no option {unknown[0]!r} (options: {', '.join(accepted)})"
        )
    return fn(root, **options)
