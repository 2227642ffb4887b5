"""Subcommands of the ``agser`` command, one module each (``add_arguments``, ``run``)."""
