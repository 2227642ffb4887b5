"""SER timings on the default run: training time per run, and the whole chapter 6.

Usage::

    python benchmarks/bench_ser.py            # per-run training times + chapter 6 (papermill)
    python benchmarks/bench_ser.py --quick    # per-run training times only (C->I, seed 0)

The default run's upstream steps (simulation, extraction, clustering, encoder
features) come from ``papermill_runs/default/work`` (computed there when
missing). Training is timed uncached (``run_experiment`` directly). The
chapter timing executes ``book/ch6_ser.py`` with papermill in a scratch work
folder that holds a copy of the run's store *without* any ``ser_*`` artifact,
so every SER step of the chapter (features, 36 runs, sweeps) is computed, while
the upstream steps other chapters need anyway are not counted twice. Timings
are wall-clock on whatever else the machine is running: say so when quoting.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="per-run training times only")
    ap.add_argument("--work-dir", default=str(REPO / "papermill_runs/default/work"))
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from agser.ser.methods import CROSS_METHODS
    from agser.ser.pipeline import corpus_by_code, gesture_divergence, ser_corpora
    from agser.ser.train import SERConfig, run_experiment

    config = yaml.safe_load((REPO / "papermill_runs/default/params.yaml").read_text())["parameters"]
    cfg = SERConfig.from_params(config["ser"])
    t0 = time.perf_counter()
    corpora = ser_corpora(config, args.work_dir)
    print(f"inputs (cached upstream + SER features): {time.perf_counter() - t0:.1f} s")
    src, tgt = corpus_by_code(corpora, "C"), corpus_by_code(corpora, "I")
    div = gesture_divergence(config, args.work_dir, src, tgt, cfg.sdtw_gamma)
    print(f"{'method':12s} {'direction':9s} {'fit_s':>7s} {'total_s':>8s} {'UAR':>6s}")
    fits = []
    for method in ("upper-bound", *CROSS_METHODS):
        t = time.perf_counter()
        pair = (tgt, tgt) if method == "upper-bound" else (src, tgt)
        r = run_experiment(method, *pair, 0, cfg, divergence=div if method == "Hard-AG" else None)
        fits.append(r["fit_s"])
        print(f"{method:12s} {'I->I' if method == 'upper-bound' else 'C->I':9s} {r['fit_s']:7.2f} "
              f"{time.perf_counter() - t:8.2f} {r['uar']:6.1f}")
    n_runs = (2 * len(CROSS_METHODS) + 2) * len(config["ser"]["seeds"])
    print(f"mean training time per run: {sum(fits) / len(fits):.2f} s; chapter 6's main table has "
          f"{n_runs} runs -> ~{n_runs * sum(fits) / len(fits):.0f} s of training")
    if args.quick:
        return 0

    import papermill as pm

    scratch = Path(tempfile.mkdtemp(prefix="bench_ser_"))
    try:
        store = Path(args.work_dir) / "store"
        work = scratch / "work"
        shutil.copytree(store, work / "store",
                        ignore=lambda d, names: [n for n in names if Path(d) == store and n.startswith("ser_")])
        extract = Path(args.work_dir) / "extract"
        if extract.is_dir():
            shutil.copytree(extract, work / "extract")
        nb = scratch / "ch6_ser.ipynb"
        import jupytext

        jupytext.write(jupytext.read(REPO / "book/ch6_ser.py"), nb)
        params = {**config, "run": "default", "work_dir": str(work), "tables_dir": str(scratch / "tables"),
                  "repo_root": str(REPO)}
        t = time.perf_counter()
        pm.execute_notebook(str(nb), str(scratch / "out.ipynb"), parameters=params, cwd=str(REPO),
                            progress_bar=False, kernel_name="python3")
        print(f"chapter 6 (all SER steps uncached, upstream cached): {time.perf_counter() - t:.1f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
