"""Building blocks with no domain knowledge: settings, database, cache, events, errors, clock."""
