"""agser.phones (filled in by its stage)."""
