"""The append-only audit log: who did what, and every read of a child's data."""
