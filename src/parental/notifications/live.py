"""Telling the rest of the deployment, once a transaction commits, that it wrote notifications.

Every writer of outbox rows goes through ``outbox.enqueue_many``, which remembers the new rows'
``(id, account id)`` in the session (``remember``). When the session's transaction commits, a
listener on SQLAlchemy's ``Session`` publishes, through the notices of the runtime that made the
session (``parental.kit.notices``: Redis pub/sub across processes, in-process queues in the
embedded default):

- ``PUSH_DUE``: a dispatcher waiting between rounds (``PushWakeup``) starts one at once, instead
  of at the end of ``push_interval_seconds``;
- ``inbox_channel(account)``: the new row ids of that account, comma-separated, for the
  guardian's open inbox streams (``inbox_stream``).

A transaction that rolls back (or a session closed without committing) publishes nothing.
Notices are hints only: a lost one delays a push until the dispatcher's next polling round and
leaves the inbox to the next ``GET /v1/notifications``, it never loses a notification.

The runtime hands its notices to its sessions through the session factory's ``info``
(``bind``); a session without them (a script's own) publishes nothing. SQLAlchemy calls the
listener synchronously; with the async API that is on the event loop's thread, so publishing
is a task of that loop (kept referenced until done, its failure logged, never raised into the
commit).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from parental.kit.notices import Notices, Subscription

log = logging.getLogger(__name__)

PUSH_DUE = "push.due"
NOTICES_KEY = "parental.notices"  # session info: a callable returning the runtime's notices
_NEW_ROWS_KEY = "parental.outbox.new_rows"  # session info: [(row id, account id), ...]
_tasks: set[asyncio.Task[None]] = set()


def inbox_channel(account_id: uuid.UUID) -> str:
    return f"notifications.{account_id}"


def bind(sessions: async_sessionmaker[AsyncSession], notices: Callable[[], Notices]) -> None:
    """Make the sessions of ``sessions`` publish through ``notices()`` after their commits."""
    sessions.configure(info={NOTICES_KEY: notices})


def remember(session: AsyncSession, rows: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Note rows ``(id, account id)`` written in the session's transaction, told on commit."""
    session.info.setdefault(_NEW_ROWS_KEY, []).extend(rows)


def parse_ids(message: str) -> list[uuid.UUID]:
    """The row ids of an inbox notice; what is not an id is skipped."""
    ids: list[uuid.UUID] = []
    for part in message.split(","):
        try:
            ids.append(uuid.UUID(part))
        except ValueError:
            log.warning("an inbox notice held something other than an id")
    return ids


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    rows: list[tuple[uuid.UUID, uuid.UUID]] = session.info.pop(_NEW_ROWS_KEY, [])
    notices = session.info.get(NOTICES_KEY)
    if not rows or notices is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # a sync session outside any loop: nobody here to tell
        return
    task = loop.create_task(_tell(notices(), rows))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the rows were taken already; after a rollback, or a close without a
    # commit, they were never stored.
    if transaction.parent is None:
        session.info.pop(_NEW_ROWS_KEY, None)


async def _tell(notices: Notices, rows: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    by_account: dict[uuid.UUID, list[str]] = {}
    for row_id, account_id in rows:
        by_account.setdefault(account_id, []).append(str(row_id))
    try:
        await notices.publish(PUSH_DUE, str(len(rows)))
        for account_id, ids in by_account.items():
            await notices.publish(inbox_channel(account_id), ",".join(ids))
    except Exception:
        log.warning("telling about %d new notifications failed", len(rows), exc_info=True)


class PushWakeup:
    """What a dispatcher waits on between rounds: a ``PUSH_DUE`` notice, or the interval.

    Notices that came together (several commits during one round) wake it once. When the
    subscription cannot be opened or fails, it waits the whole interval (pure polling) and tries
    to subscribe again on the next wait.
    """

    DRAIN_SECONDS = 0.005  # how long to look for notices that came with the first one
    DRAIN_AT_MOST = 1000

    def __init__(self, notices: Notices) -> None:
        self._notices = notices
        self._subscription: Subscription | None = None
        self._failing = False

    async def open(self) -> bool:
        """Subscribe (before the first round, so no commit after it goes unheard); never raises."""
        if self._subscription is not None:
            return True
        try:
            self._subscription = await self._notices.open(PUSH_DUE)
        except Exception:
            self._fail("subscribing to push notices failed")
            return False
        self._failing = False
        return True

    async def wait(self, seconds: float) -> None:
        """Return after a notice (and those that came with it) or after ``seconds``."""
        if not await self.open():
            await asyncio.sleep(seconds)
            return
        assert self._subscription is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            if await self._subscription.next(seconds) is None:
                return
            for _ in range(self.DRAIN_AT_MOST):
                if await self._subscription.next(self.DRAIN_SECONDS) is None:
                    break
        except Exception:
            self._fail("waiting for push notices failed")
            await self.close()
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            try:
                await subscription.close()
            except Exception:
                log.debug("closing the push notice subscription failed", exc_info=True)

    def _fail(self, what: str) -> None:
        # Once per outage, not every interval.
        if not self._failing:
            log.warning("%s; dispatching every interval until it works", what, exc_info=True)
        self._failing = True
