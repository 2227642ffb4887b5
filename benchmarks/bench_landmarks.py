"""Landmark extraction speed, with and without tracking, on one core.

Measures frames per second of :func:`agser.landmarks.extract` over the
CREMA-D sample clips (480x360 VP6 FLV), decoding included, with OpenCV
limited to one thread and the process pinned to one CPU where the OS allows.
Also prints the share of frames with a face (``success``). Timings on a
shared machine are noisy: the best of ``--repeat`` passes is reported, both
as wall-clock frames per second and per second of this process's CPU time
(which other processes competing for the core do not inflate), with the load
average before and after.

    python benchmarks/bench_landmarks.py            # CREMA-D clips, 3 passes
    python benchmarks/bench_landmarks.py --quick    # 2 clips, 1 pass
    python benchmarks/bench_landmarks.py --grid     # also the GRID clips
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _data_dir():
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def run_pass(clips, tracker):
    from agser.landmarks import extract

    frames = ok = 0
    start, cpu = time.perf_counter(), time.process_time()
    for clip in clips:
        lm = extract(clip, tracker=tracker)
        frames += lm.n_frames
        ok += int(lm.success.sum())
    return frames, ok, time.perf_counter() - start, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_data_dir(), help="folder with crema-d-sample/ and grid/")
    parser.add_argument("--quick", action="store_true", help="2 clips, 1 pass")
    parser.add_argument("--repeat", type=int, default=3, help="passes per setting (best is kept)")
    parser.add_argument("--grid", action="store_true", help="also report the GRID clips")
    args = parser.parse_args(argv)

    import cv2

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sets = {"crema-d": sorted((args.data / "crema-d-sample").glob("*.flv"))}
    if args.grid:
        sets["grid"] = sorted((args.data / "grid").glob("*.mpg"))
    if not sets["crema-d"]:
        print(f"no CREMA-D clips under {args.data / 'crema-d-sample'}", file=sys.stderr)
        return 1
    repeat = 1 if args.quick else max(1, args.repeat)
    from agser.landmarks.dlib_detector import _models

    _models()  # load the 100 MB predictor outside the timed loop
    print(f"one core (cv2 threads = {cv2.getNumThreads()}), best of {repeat} pass(es), decoding included")
    if hasattr(os, "getloadavg"):
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for name, clips in sets.items():
        if args.quick:
            clips = clips[:2]
        for tracker in (True, False):
            best = None
            for _ in range(repeat):
                frames, ok, seconds, cpu = run_pass(clips, tracker)
                if best is None or seconds < best[2]:
                    best = (frames, ok, seconds, cpu)
            frames, ok, seconds, cpu = best
            label = "with tracking   " if tracker else "without tracking"
            print(
                f"{name:8s} {label}: {frames / seconds:7.1f} frames/s wall, {frames / cpu:7.1f} frames/CPU-s "
                f"({frames} frames of {len(clips)} clips in {seconds:.2f} s), "
                f"landmarks in {100 * ok / frames:.1f} % of frames"
            )
    if hasattr(os, "getloadavg"):
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
