"""Composition root of the child-safe SIM backend: the API, CLI and parent-facing domains."""

__version__ = "0.1.0"
