"""Extraction time for the default corpora: simulate, then `extract_manifest`.

    python benchmarks/bench_extract.py                 # default size (120 utterances per corpus)
    python benchmarks/bench_extract.py --quick         # 20 per corpus
    python benchmarks/bench_extract.py --aligner pocketsphinx   # align the audio instead of the true TextGrids

The simulated corpora go to a temporary folder with a fresh artifact store, so
nothing is cached: the figure is a cold extraction (OpenFace CSVs read, eye
alignment, gap interpolation, TextGrids or pocketsphinx, segmentation, output
files). Simulation time is printed separately. Wall-clock timings on a shared
machine: noisy.
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
                        help="utterances per corpus (default: the simulator's default, 120)")
    parser.add_argument("--quick", action="store_true", help="20 utterances per corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--aligner", choices=("auto", "textgrid", "pocketsphinx"), default="auto")
    args = parser.parse_args(argv)
    n = 20 if args.quick else args.utterances

    from agser.corpora.simulator import simulate
    from agser.extract import extract_manifest
    from agser.store import ArtifactStore

    with tempfile.TemporaryDirectory(prefix="agser-bench-extract-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        manifest = simulate(tmp / "sim", seed=0, utterances_per_corpus=n)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = extract_manifest(manifest, tmp / "out", workers=args.workers,
                                   aligner=args.aligner, progress=False)
        t_ext = time.perf_counter() - t0
        t0 = time.perf_counter()
        extract_manifest(manifest, tmp / "out2", workers=args.workers, aligner=args.aligner,
                         progress=False, store=ArtifactStore(tmp / "out" / "cache"))
        t_warm = time.perf_counter() - t0
    utts = sum(s["utterances"] for s in summary.values())
    segs = sum(s["segments"] for s in summary.values())
    fails = sum(s["failures"] for s in summary.values())
    print(f"simulate: {utts} utterances in {t_sim:.1f} s")
    print(f"extract (cold, workers={args.workers}, aligner={args.aligner}): {t_ext:.1f} s, "
          f"{utts / t_ext:.1f} utterances/s, {segs} segments, {fails} failures")
    print(f"extract again from the store (resume path): {t_warm:.1f} s")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
