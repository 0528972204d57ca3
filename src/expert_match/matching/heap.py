"""The cyclic garbage collector around the matcher's large, long-lived structures.

Fitting 13,320 experts creates about 370,000 objects that the collector tracks (profiles,
documents, skills, their tuples and sets), and all of them survive. While they are being made,
the collector's full passes scan the growing heap again and again: 10 full passes took 1.5 s of
a 4.9 s build (the profiles' read included). In a background refit each pass held the
interpreter, so requests waited up to 283 ms at a time. Afterwards every full pass scans them
once more (146 ms) for nothing.

``collection_paused`` stops the automatic passes while such a structure is built (reference
counting still frees everything without cycles at once), and ``freeze_survivors`` moves what
start-up built out of the collector's sight for good.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_enabled_before = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic collection inside the block. Nested and concurrent blocks (a refit in one
    thread, an update in another) share one pause: the collector is switched back on when the
    last of them ends, and only if it was on when the first began."""
    global _pauses, _enabled_before
    with _lock:
        if _pauses == 0:
            _enabled_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _enabled_before:
                gc.enable()


def freeze_survivors() -> int:
    """Collect once, then keep every object still alive out of all later collections (for a
    server process once its start-up is done: the app, the index, the caches).

    Collected first, so garbage in reference cycles is freed rather than kept for ever. Frozen
    objects are still freed by reference counting when they are dropped; only a frozen object
    in a reference cycle would outlive its last use, which is why the fitted indexes hold none
    (tested). Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
