"""Time the book build: every chapter of a run (papermill) and the HTML (jupyter-book).

    python benchmarks/bench_book.py                 # the default run, as `make book` does
    python benchmarks/bench_book.py --cold          # ... with an empty artifact store
    python benchmarks/bench_book.py --quick         # the root chapter + HTML only

The per-chapter figures are build_book's own timing records (conversion and
execution of each chapter, the HTML build, the whole call). A warm run reuses the
run's artifact store (papermill_runs/RUN/work), so it times the chapters'
drawing and analysis, not the extraction; --cold gives the build a fresh,
temporary store. Timings are wall-clock on a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="default")
    parser.add_argument("--chapters", default=None, help="comma-separated chapter names")
    parser.add_argument("--quick", action="store_true",
                        help="only the toc's root chapter and the HTML (the pipeline's overhead)")
    parser.add_argument("--cold", action="store_true",
                        help="use a fresh temporary work_dir: nothing cached")
    parser.add_argument("--no-html", dest="html", action="store_false")
    parser.add_argument("--root", default=str(REPO))
    args = parser.parse_args(argv)

    from agser.book import build_book, toc_chapters

    chapters = args.chapters
    if args.quick:
        chapters = toc_chapters(args.root)[0]
    store_note = "warm (existing papermill_runs/%s/work)" % args.run
    with tempfile.TemporaryDirectory(prefix="agser-bench-book-") as tmp:
        work_dir = None
        if args.cold:
            work_dir = Path(tmp) / "work"
            store_note = f"cold (fresh work_dir {work_dir})"
        elif not (Path(args.root) / "papermill_runs" / args.run / "work").exists():
            store_note = f"cold (papermill_runs/{args.run}/work did not exist)"
        result = build_book(args.run, root=args.root, chapters=chapters, build_html=args.html,
                            work_dir=work_dir, log=None)
    print(f"bench_book: run={args.run!r} chapters={'root only (--quick)' if args.quick else chapters or 'all'}"
          f" store={store_note}")
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()};"
          " wall-clock seconds, shared machine (noisy)")
    for name in result.chapters:
        print(f"  chapter {name:<20} {result.seconds[name]:8.1f} s")
    if result.html_seconds is not None:
        print(f"  html    {'(jupyter-book)':<20} {result.html_seconds:8.1f} s")
    print(f"  book total {'':<17} {result.total_seconds:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
