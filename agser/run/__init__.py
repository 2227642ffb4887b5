"""The run layer: the only code that knows params.yaml, the work folder and the store.

- :mod:`agser.run.schema`: every section's defaults, once; unknown keys rejected;
- :class:`agser.run.Run`: a run's parameters, work folder and store, one cached
  method per stage (:mod:`agser.run.run`, :mod:`agser.run.ser`);
- :func:`agser.run.runner.map_cached`: the one per-utterance runner (parallel,
  store, failure rows), used by extraction, landmarks and the encoder pass.

Examples
--------
>>> from agser.run import Run
>>> run = Run.named("default")  # doctest: +SKIP
>>> run.clusters()["k"]  # doctest: +SKIP
5
"""

from agser.run.run import Run, find_root, with_params
from agser.run.schema import SCHEMA, defaults, describe, read_params_file, resolve_params

__all__ = ["Run", "SCHEMA", "defaults", "describe", "find_root", "read_params_file", "resolve_params",
           "with_params"]
