"""The ``agser`` command: thin wrappers over the package's public functions.

Each subcommand is a module of :mod:`agser.cli` with ``add_arguments(parser)``
and ``run(args) -> int``; those modules import nothing heavy at top level, so
``agser --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from agser.errors import AgserError

#: subcommand -> (module, one-line help)
COMMANDS = {
    "simulate": ("agser.cli.simulate", "generate the two simulated corpora and their manifest"),
    "corpus": ("agser.cli.corpus", "build a manifest from a corpus tree"),
    "fetch-samples": ("agser.cli.fetch_samples", "download the real CREMA-D sample clips"),
    "extract": ("agser.cli.extract", "landmarks, phones and gesture segments for a manifest"),
    "cluster": ("agser.cli.cluster", "soft-DTW k-means of gesture segments"),
    "train": ("agser.cli.train", "train one SER method, direction and seed"),
    "book": ("agser.cli.book", "execute the chapters of a run and build the HTML book"),
    "params": ("agser.cli.params", "print a run's resolved parameters, or every default (--list)"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="agser", description=__doc__.splitlines()[0])
    from agser import __version__

    parser.add_argument("--version", action="version", version=f"agser {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except AgserError as exc:
        print(f"agser {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
