"""Keeping big batches fast."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a batch that allocates many small objects.

    Creating 100k row objects otherwise triggers several full collections that walk every order in
    memory (measured: 150 ms of 170 ms). Reference counting still frees everything; nothing here
    creates cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle_after_bulk() -> None:
    """After a bulk load of long-lived objects (100k orders): freeze everything alive now.

    Frozen objects are skipped by later collections, so the next full collection does not walk the whole
    blotter (~180 ms at 100k rows) at some random moment — e.g. in the middle of a filter keystroke.
    Objects are still freed by reference counting; only cycles among frozen objects would be kept (the
    models create none).
    """
    gc.freeze()
