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

__all__ = [
    "CORPUS_CODES",
    "EMOTIONS",
    "MANIFEST_COLUMNS",
    "PATH_COLUMNS",
    "make_manifest",
    "read_manifest",
    "validate_manifest",
    "write_manifest",
]
