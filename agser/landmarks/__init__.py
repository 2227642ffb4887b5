"""agser.landmarks (filled in by its stage)."""
