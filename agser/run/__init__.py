"""The run layer: the only code that knows params.yaml, the work folder and the store.

- :mod:`agser.run.schema`: every section's defaults, once; unknown keys rejected;
- :class:`agser.run.Run`: a run's parameters, work folder and store, one cached
  method per stage (:mod:`agser.run.run`, :mod:`agser.run.ser`);
- :func:`agser.run.runner.map_cached`: the one per-utterance runner (parallel,
  store, failure rows), used by extraction, landmarks and the encoder pass.

Examples
--------
A small simulated run, through its stages (each cached in ``work_dir/store``):

>>> import tempfile
>>> from agser.run import Run
>>> run = Run({"data": {"utterances_per_corpus": 8, "simulator": {"speakers_per_corpus": 2}},
...            "extract": {"workers": 1}, "cluster": {"k_range": [2, 3], "max_iter": 3}},
...           work_dir=tempfile.mkdtemp())
>>> sorted(run.manifest()["corpus"].unique())
['sim-crema', 'sim-improv']
>>> run.clusters()["k"] in (2, 3)
True

A run of the book, by name (skipped here: the default run simulates, extracts
and clusters 240 utterances, minutes of work on a first call):

>>> run = Run.named("default")  # doctest: +SKIP
>>> run.clusters()["k"]  # doctest: +SKIP
5
"""

from agser.run.run import Run, find_root, with_params
from agser.run.schema import SCHEMA, defaults, describe, read_params_file, resolve_params

__all__ = ["Run", "SCHEMA", "defaults", "describe", "find_root", "read_params_file", "resolve_params",
           "with_params"]
