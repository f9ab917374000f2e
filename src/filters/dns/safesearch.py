"""SafeSearch by DNS: the search engines' own names that enforce it, for profiles that ask.

Each engine documents a name that serves its search with the strict filter forced on; pointing
its usual names there (a CNAME in our answer) enforces it for every browser and app on the
line. Search engines that offer no such name are blocked instead by the ``filter_bypass``
category's lists.

Sources: Google "Lock SafeSearch for devices & networks you manage" (forcesafesearch),
Microsoft "Block adult content with SafeSearch" (strict.bing.com), DuckDuckGo help "Can I
force Safe Search?" (safe.duckduckgo.com), YouTube "Manage YouTube restrictions for your
network" (restrict.youtube.com; restrictmoderate.youtube.com is the lighter level).
"""

from __future__ import annotations

import re

GOOGLE = "forcesafesearch.google.com"
BING = "strict.bing.com"
DUCKDUCKGO = "safe.duckduckgo.com"
YOUTUBE = "restrict.youtube.com"

REWRITES: dict[str, str] = {
    "www.bing.com": BING,
    "duckduckgo.com": DUCKDUCKGO,
    "www.duckduckgo.com": DUCKDUCKGO,
    "www.youtube.com": YOUTUBE,
    "m.youtube.com": YOUTUBE,
    "youtubei.googleapis.com": YOUTUBE,
    "youtube.googleapis.com": YOUTUBE,
    "www.youtube-nocookie.com": YOUTUBE,
}

# www.google.com, www.google.kz, www.google.co.uk, www.google.com.tr, ...: every country
# domain Google serves search on has this shape.
_GOOGLE = re.compile(r"www\.google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})")


def safe_name(name: str) -> str | None:
    """The name that enforces SafeSearch for ``name`` (lowercase, no trailing dot), if any."""
    found = REWRITES.get(name)
    if found is not None:
        return found
    return GOOGLE if _GOOGLE.fullmatch(name) else None
