"""Subcommands of the ``agser`` command, one module each (``add_arguments``, ``run``)."""

__all__ = ["option_pairs", "schema_option", "schema_overrides", "add_run_arguments", "load_run"]


def option_pairs(option, items, form="NAME=VALUE"):
    """Parse the ``NAME=VALUE`` items of a repeatable command-line option.

    Parameters
    ----------
    option : str
        The option's name without ``--`` (quoted in the error).
    items : list of str
        The values given, e.g. ``["utterance_id=file"]``.
    form : str
        How an item must look (quoted in the error).

    Returns
    -------
    dict of str -> str
        Names and values, stripped; empty when no item was given.

    Raises
    ------
    ParameterError
        An item without ``=`` or with an empty side.

    Examples
    --------
    >>> option_pairs("column", ["utterance_id = file", "speaker=actor"])
    {'utterance_id': 'file', 'speaker': 'actor'}
    >>> option_pairs("column", ["oops"])
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: --column 'oops' must look like NAME=VALUE
    """
    from agser.errors import ParameterError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ParameterError(f"--{option} {item!r} must look like {form}")
        out[name.strip()] = value.strip()
    return out


def schema_option(parser, section, key, flag=None, **kwargs):
    """Add ``--KEY`` for ``section.key`` of the run schema: its type, choices and help, no default.

    The option's value is None unless given, so the schema
    (:data:`agser.run.schema.SCHEMA`) stays the only home of the default;
    :func:`schema_overrides` collects the options that were given.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> schema_option(p, "cluster", "gamma")
    >>> p.parse_args(["--gamma", "0.5"]).cluster__gamma, p.parse_args([]).cluster__gamma
    (0.5, None)
    """
    from agser.run.schema import SCHEMA

    spec = SCHEMA[section][key]
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    typ = next((k for k in kinds if k in (int, float, str)), str)
    extra = f" (one of {', '.join(spec.choices)})" if spec.choices else ""
    parser.add_argument(flag or "--" + key.replace("_", "-"), dest=f"{section}__{key}", type=typ,
                        default=None, choices=spec.choices, metavar=None if spec.choices else key.upper(),
                        help=f"{spec.doc}{extra}; default {spec.default!r} ({section}.{key})", **kwargs)


def schema_overrides(args):
    """``{section: {key: value}}`` of the :func:`schema_option` options that were given."""
    out = {}
    for dest, value in vars(args).items():
        if "__" in dest and value is not None and not dest.startswith("_"):
            section, key = dest.split("__", 1)
            out.setdefault(section, {})[key] = value
    return out


def add_run_arguments(parser, required=True):
    """``--run NAME`` or ``--params FILE`` (one of them), and ``--work-dir``."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--run", help="a run of the book: papermill_runs/RUN/params.yaml")
    group.add_argument("--params", help="a params.yaml anywhere (its work folder: work/ beside it)")
    parser.add_argument("--work-dir", default=None,
                        help="the run's working folder (default: work/ beside its params.yaml)")


def load_run(args, overrides=None):
    """The :class:`agser.run.Run` that ``--run`` / ``--params`` name, with ``overrides`` applied.

    Every parameter is checked here, before any work: a misspelt key in the
    params file stops the command at once with a message naming it.
    """
    from agser.run import Run

    # the command line shows the per-utterance stages' progress bars (the book does not)
    run = Run.named(args.run, work_dir=args.work_dir, progress=True) if args.run else \
        Run.from_file(args.params, args.work_dir, progress=True)
    changes = {f"{section}.{key}": value for section, keys in (overrides or {}).items()
               for key, value in keys.items()}
    return run.with_params(**changes) if changes else run
