"""Real-time factor of the pocketsphinx forced aligner on the real CREMA-D clips.

    python benchmarks/bench_aligner.py            # the 12 "Don't forget a jacket" clips, 3 repeats
    python benchmarks/bench_aligner.py --quick    # 1 repeat
    python benchmarks/bench_aligner.py --data DIR # clips elsewhere (*.flv, *.mp3, *.wav)

RTF = seconds of computing per second of audio (below 1 = faster than real time),
for the alignment alone (two decoding passes, audio already in memory) and for
audio decoding (PyAV/soundfile, resampling to 16 kHz) separately. The decoder is
created once (its cost is printed too) and reused, as in `agser extract`.
Wall-clock timings on a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "crema-d-sample"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of CREMA-D DFA clips")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else max(1, args.repeats)

    from agser.phones import PocketsphinxAligner, load_audio

    data = Path(args.data)
    clips = sorted(p for p in data.glob("*_DFA_*") if p.suffix.lower() in (".flv", ".mp3", ".wav"))
    if not clips:
        print(f"no *_DFA_* clips under {data}: pass --data (agser fetch-samples gives the .flv clips)")
        return 1
    t0 = time.perf_counter()
    audios = [load_audio(p) for p in clips]
    t_load = time.perf_counter() - t0
    seconds = sum(len(a) for a in audios) / 16000
    aligner = PocketsphinxAligner()
    t0 = time.perf_counter()
    aligner.decoder
    t_decoder = time.perf_counter() - t0
    aligner.align(audios[0], "Don't forget a jacket")  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a in audios:
            aligner.align(a, "Don't forget a jacket")
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {sys.version.split()[0]}")
    print(f"clips: {len(clips)} ({seconds:.1f} s of audio) from {data}")
    print(f"decoder creation: {t_decoder:.2f} s (once per process)")
    print(f"audio decoding + resampling: {t_load:.2f} s, RTF {t_load / seconds:.4f}")
    print(f"alignment (2 passes), best of {repeats}: {best:.2f} s, RTF {best / seconds:.4f} "
          f"({seconds / best:.0f}x real time); all repeats: "
          + ", ".join(f"{t:.2f}" for t in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
