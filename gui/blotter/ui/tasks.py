"""Strong references for fire-and-forget coroutines started from Qt slots.

qasync 0.28's ``asyncSlot`` keeps no reference to the task it starts, so a task can be garbage-collected
mid-flight. Slots here are plain methods that call ``TaskSet.spawn``; exceptions go to
``sys.excepthook`` (pytest-qt fails the test, the app logs them), cancellation is silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.keep(task)
        return task

    def keep(self, future: asyncio.Future[Any]) -> None:
        """Hold a future until it is done; report its exception if nobody else looks at it."""
        self._tasks.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self._tasks.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    async def aclose(self) -> None:
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
