"""``agser book``: execute the chapters of a run with papermill and build the HTML book."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument(
        "--run", default="default",
        help="run name: papermill_runs/RUN/params.yaml holds its parameters (default: default)",
    )
    parser.add_argument(
        "--chapters", default=None,
        help="comma-separated chapter names (as in _toc.yml) to execute; default: all",
    )
    parser.add_argument(
        "--no-html", dest="html", action="store_false",
        help="execute the chapters only; do not build _build/html",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800,
        help="seconds one cell (and the HTML build) may take (default: 1800)",
    )
    parser.add_argument(
        "--root", default=None,
        help="book root with _toc.yml, _config.yml, book/ and papermill_runs/ "
        "(default: the current folder, else the agser checkout)",
    )


def run(args):
    from agser.book import build_book

    result = build_book(
        run=args.run,
        root=args.root,
        chapters=args.chapters,
        build_html=args.html,
        timeout=args.timeout,
        log=lambda msg: print(msg, flush=True),
    )
    print(result.summary())
    if result.html_dir is not None:
        print(f"HTML: {result.html_dir / 'index.html'}")
    return 0
