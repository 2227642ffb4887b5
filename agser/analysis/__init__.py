"""agser.analysis (filled in by its stage)."""
