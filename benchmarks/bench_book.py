"""Time the book build: every chapter of a run (papermill) and the HTML (jupyter-book).

    python benchmarks/bench_book.py                 # the default run, as `make book` does
    python benchmarks/bench_book.py --cold          # ... with an empty artifact store
    python benchmarks/bench_book.py --quick         # the root chapter + HTML only
    python benchmarks/bench_book.py --rebuild       # a rebuild: unchanged chapters are not executed

The per-chapter figures are build_book's own timing records (conversion and
execution of each chapter, the HTML build, the whole call). Every selected
chapter is executed (``build_book(force=True)``), unless --rebuild: then a
chapter whose source, resolved parameters and inputs, and package code are
those of its executed notebook is skipped, as ``agser book`` does, and the
figure is what a rebuild costs. A warm run reuses the run's artifact store
(papermill_runs/RUN/work), so it times the chapters' drawing and analysis, not
the extraction; --cold gives the build a fresh, temporary store (a chapter then
receives ``work_dir`` besides ``run``). Timings are wall-clock on a shared
machine: noisy.
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
    parser.add_argument("--rebuild", action="store_true",
                        help="skip the chapters that did not change since they were last executed")
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
                            work_dir=work_dir, log=None, force=not args.rebuild)
    print(f"bench_book: run={args.run!r} chapters={'root only (--quick)' if args.quick else chapters or 'all'}"
          f" store={store_note}")
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()};"
          " wall-clock seconds, shared machine (noisy)")
    for name in result.chapters:
        note = "" if name in result.executed else "  (unchanged: not executed)"
        print(f"  chapter {name:<20} {result.seconds[name]:8.1f} s{note}")
    if result.html_seconds is not None:
        print(f"  html    {'(jupyter-book)':<20} {result.html_seconds:8.1f} s")
    print(f"  book total {'':<17} {result.total_seconds:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
