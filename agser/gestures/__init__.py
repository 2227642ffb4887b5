"""agser.gestures (filled in by its stage)."""
