"""``agser params``: a run's parameters, resolved (defaults plus its overrides), or every default."""

from __future__ import annotations


def add_arguments(parser):
    from agser.cli import add_run_arguments

    add_run_arguments(parser, required=False)
    parser.add_argument("--list", action="store_true",
                        help="every parameter of the schema with its default and meaning")


def run(args):
    import yaml

    from agser.cli import load_run
    from agser.run import describe

    if args.list or not (args.run or args.params):
        print(describe())
        return 0
    r = load_run(args)
    print(f"# run {r.name!r}: every section resolved (defaults of agser/run/schema.py + its params.yaml)")
    print(yaml.safe_dump(r.params, sort_keys=False, allow_unicode=True, default_flow_style=None), end="")
    return 0
