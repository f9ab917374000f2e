"""Carrier staff (curators, admins): accounts created from the CLI, password sign-in."""
