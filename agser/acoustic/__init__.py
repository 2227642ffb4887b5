"""agser.acoustic (filled in by its stage)."""
