"""Urgent asyncio work: a cancel on its way to the venue goes ahead of everything else that is ready.

The cancel coordinator runs each attempt (and the re-reads that confirm it) in a context where ``URGENT``
is set; an event loop that knows the variable (the window's, ``ui/loop.py``) runs the ready callbacks of
that context before others — a refresh parsing a page of orders must not hold a trader's cancel back.
Nothing else depends on it: under a plain asyncio loop the flag is simply never read.
"""

from __future__ import annotations

from contextvars import Context, ContextVar, copy_context

URGENT: ContextVar[bool] = ContextVar("blotter_urgent", default=False)


def urgent_context() -> Context:
    """A copy of the current context with ``URGENT`` set, for ``loop.create_task(..., context=...)``."""
    context = copy_context()
    context.run(URGENT.set, True)
    return context
