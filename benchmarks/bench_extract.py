"""Extraction time for the default corpora: simulate, then the run's extraction stage.

    python benchmarks/bench_extract.py                 # default size (120 utterances per corpus)
    python benchmarks/bench_extract.py --quick         # 20 per corpus
    python benchmarks/bench_extract.py --aligner pocketsphinx   # align the audio instead of the true TextGrids

It goes through the run layer, as the book does: a :class:`agser.run.Run` of
the simulated corpora in a temporary work folder with a fresh artifact store,
so the first call is a cold extraction (OpenFace CSVs read, eye alignment, gap
interpolation, TextGrids or pocketsphinx, segmentation, output files, each
utterance through the per-utterance runner). A second Run object on the same
work folder then times the resume path: every utterance read from the store.
Simulation time is printed separately. Wall-clock timings on a shared machine:
noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=None,
                        help="utterances per corpus (default: the run schema's data.utterances_per_corpus)")
    parser.add_argument("--quick", action="store_true", help="20 utterances per corpus")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (extract.workers)")
    parser.add_argument("--aligner", choices=("auto", "textgrid", "pocketsphinx"), default="auto",
                        help="phone source (extract.aligner)")
    args = parser.parse_args(argv)
    n = 20 if args.quick else args.utterances

    from agser.run import Run

    params = {"extract": {"workers": args.workers, "aligner": args.aligner}}
    if n is not None:
        params["data"] = {"utterances_per_corpus": n}
    with tempfile.TemporaryDirectory(prefix="agser-bench-extract-") as tmp:
        work = Path(tmp) / "work"
        run = Run(params, work_dir=work)  # every parameter checked here, before any work
        t0 = time.perf_counter()
        run.manifest_path()
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = run.segments_dir()
        t_ext = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text())
        t0 = time.perf_counter()
        again = Run(params, work_dir=work).segments_dir()
        t_warm = time.perf_counter() - t0
        assert again == out
    utts = sum(s["utterances"] for s in summary.values())
    segs = sum(s["segments"] for s in summary.values())
    fails = sum(s["failures"] for s in summary.values())
    print(f"simulate: {utts} utterances in {t_sim:.1f} s")
    print(f"extract (cold, workers={args.workers}, aligner={args.aligner}): {t_ext:.1f} s, "
          f"{utts / t_ext:.1f} utterances/s, {segs} segments, {fails} failures")
    print(f"extract again from the store (resume path, a new Run): {t_warm:.1f} s")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
