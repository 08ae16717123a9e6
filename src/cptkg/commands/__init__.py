"""Subcommands of the ``cptkg`` CLI, one module each (see :mod:`cptkg.cli`)."""
