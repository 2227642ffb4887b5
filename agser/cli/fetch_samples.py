"""``agser fetch-samples``: download the real CREMA-D sample clips (and add GRID clips)."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--out", required=True,
                        help="folder for the clips (crema-d/) and manifest.csv")
    parser.add_argument("--grid", default=None,
                        help="folder of GRID .mpg clips to add to the manifest (copied to OUT/grid/)")


def run(args):
    from agser.corpora.manifest import read_manifest
    from agser.corpora.samples import fetch_samples

    path = fetch_samples(args.out, grid_dir=args.grid)
    m = read_manifest(path)
    per = ", ".join(f"{c}: {n}" for c, n in m["corpus"].value_counts().items())
    print(f"{len(m)} clips ({per}) -> {path}")
    return 0
