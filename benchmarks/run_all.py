"""Run every benchmarks/bench_*.py one after another and print their figures.

    python benchmarks/run_all.py            # each in its quick mode (--quick)
    python benchmarks/run_all.py --full     # each with its own defaults
    python benchmarks/run_all.py -k book    # only those whose name contains "book"

Each benchmark runs in its own process (so one's imports and caches do not
flatter the next); its output is passed through, then a summary gives each
script's exit status and wall-clock time. A benchmark that has no --quick flag
runs with its defaults, and the summary says so. Exits non-zero when any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run each without --quick")
    parser.add_argument("-k", dest="pattern", default="", help="only names containing this")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    args = parser.parse_args(argv)

    scripts = sorted(p for p in HERE.glob("bench_*.py") if args.pattern in p.stem)
    if not scripts:
        print(f"no benchmarks/bench_*.py matching {args.pattern!r}")
        return 1
    rows = []
    for script in scripts:
        cmd = [sys.executable, str(script)]
        mode = "full"
        if not args.full:
            if "--quick" in script.read_text(encoding="utf-8"):
                cmd.append("--quick")
                mode = "quick"
            else:
                mode = "defaults (no --quick)"
        print(f"\n=== {script.name} [{mode}] ===", flush=True)
        t0 = time.perf_counter()
        try:
            rc = subprocess.run(cmd, cwd=HERE.parent, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        rows.append((script.name, mode, rc, time.perf_counter() - t0))
    print("\n=== summary (wall-clock, shared machine: noisy) ===")
    for name, mode, rc, seconds in rows:
        status = "ok" if rc == 0 else f"FAILED ({rc})"
        print(f"  {name:<28} {mode:<22} {status:<12} {seconds:8.1f} s")
    return 0 if all(rc == 0 for _, _, rc, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
