"""Corpora: the manifest schema, corpus adapters, the simulator and sample fetchers."""

from agser.corpora.manifest import (
    CORPUS_CODES,
    EMOTIONS,
    MANIFEST_COLUMNS,
    PATH_COLUMNS,
    make_manifest,
    read_manifest,
    validate_manifest,
    write_manifest,
)
from agser.corpora.adapters import build_manifest
from agser.corpora.cremad import cremad_manifest
from agser.corpora.csv_manifest import csv_manifest
from agser.corpora.grid import grid_manifest
from agser.corpora.mspimprov import mspimprov_manifest
from agser.corpora.samples import fetch_samples, samples_manifest

__all__ = [
    "CORPUS_CODES",
    "EMOTIONS",
    "MANIFEST_COLUMNS",
    "PATH_COLUMNS",
    "make_manifest",
    "read_manifest",
    "validate_manifest",
    "write_manifest",
    "build_manifest",
    "cremad_manifest",
    "csv_manifest",
    "grid_manifest",
    "mspimprov_manifest",
    "fetch_samples",
    "samples_manifest",
]
