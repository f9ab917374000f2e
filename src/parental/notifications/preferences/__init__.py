"""Each guardian's notification preferences: which kinds, quiet hours, language."""
