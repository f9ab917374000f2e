"""Tasks a guardian sets that earn the child extra time."""
