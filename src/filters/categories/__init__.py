"""Content categories: what each blocks, in three languages, and its default by age band."""
