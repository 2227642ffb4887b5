"""agser.ser (filled in by its stage)."""
