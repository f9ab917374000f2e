"""Content filter: category blocklists, the compiled matcher, profiles and verdicts (issue 3)."""
