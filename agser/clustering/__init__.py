"""agser.clustering (filled in by its stage)."""
