"""Curating blocklists in SQL: categories, sources, entries with provenance, published versions.

Entries are temporal: each row records the version that added it and the version that removed
it. The content of version N is every row with ``added_in <= N`` and no removal at or before
N, so a published version never changes, two versions can be compared with a query, and a
rollback is a new version whose content equals an old one. Rows not yet published form the
draft (``added_in`` NULL, or ``remove_pending``).
"""
