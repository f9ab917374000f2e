"""Keeping the cyclic garbage collector off what a long-running process keeps for its life.

Once started, a process of ours holds some 300,000 objects that live as long as it does: the
modules, the app's routes and their dependency trees, pydantic and SQLAlchemy's models, the
settings. Python's collector walks all of them at every full collection, which stops the event
loop (150 ms on the load scenario's machine; 300 ms when its two cores were busy, a stall every
request of the process waits through). ``settle`` collects what start-up left behind and then
moves every object alive to the permanent generation (``gc.freeze``), which no collection
walks; what requests allocate afterwards is collected as before. Objects frozen are freed as
usual when their last reference goes; only a reference cycle among them would stay.

It also makes the youngest generation's collection rarer (``YOUNG_THRESHOLD`` allocations
instead of Python's 700). A request allocates thousands of short-lived objects (an upload of
a hundred fixes: the validated models, the fixes, their ids, the rows) that reference counting
frees anyway; at 700 the collector ran several times per upload and every survivor of those
runs was walked again by the older generations' (measured on the upload benchmark: some 150
collections a second, 5-6% of a worker's CPU; a few a second after). What is left in cycles is
collected a few thousand allocations later: no memory to speak of.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Call once a long-running process has started (module doc)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
