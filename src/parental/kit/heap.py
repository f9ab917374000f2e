"""Keeping the cyclic garbage collector off what a long-running process keeps for its life.

Once started, a process of ours holds some 300,000 objects that live as long as it does: the
modules, the app's routes and their dependency trees, pydantic and SQLAlchemy's models, the
settings. Python's collector walks all of them at every full collection, which stops the event
loop (150 ms on the load scenario's machine; 300 ms when its two cores were busy, a stall every
request of the process waits through). ``settle`` collects what start-up left behind and then
moves every object alive to the permanent generation (``gc.freeze``), which no collection
walks; what requests allocate afterwards is collected as before. Objects frozen are freed as
usual when their last reference goes; only a reference cycle among them would stay.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Call once a long-running process has started (module doc)."""
    gc.collect()
    gc.freeze()
