"""The cyclic garbage collector around the matcher's large, long-lived structures.

Fitting 13,320 experts creates about 370,000 objects that the collector tracks (profiles,
documents, skills, their tuples and sets), and all of them survive. While they are being made,
the collector's full passes scan the growing heap again and again: 10 full passes took 1.5 s of
a 4.9 s build (the profiles' read included). In a background refit each pass held the
interpreter, so requests waited up to 283 ms at a time. Afterwards every full pass scans them
once more (146 ms) for nothing.

``collection_paused`` stops the automatic passes while such a structure is built (reference
counting still frees everything without cycles at once), and ``freeze_survivors`` moves what
start-up built out of the collector's sight for good. ``limit_malloc_arenas`` keeps glibc from
spreading a serving process over one heap per thread.
"""

from __future__ import annotations

import ctypes
import gc
import os
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


# glibc's mallopt parameter for the most heaps (arenas) threads may spread over.
M_ARENA_MAX = -8
SERVING_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVING_ARENAS) -> bool:
    """Let glibc's malloc use at most ``arenas`` heaps; whether it took (glibc, and the operator
    has not chosen with ``MALLOC_ARENA_MAX``). Call before the process starts threads: glibc
    fixes the bound when a thread first needs a heap of its own.

    glibc gives threads heaps of their own, up to 8 per core, and keeps what is freed in each for
    reuse. A server's threads (reads, writes, the indexes' refits of 10,000 tickets in the
    background) each freed hundreds of MB in turn into their own heaps, so a process's memory
    climbed long after its data stopped growing: in a PostgreSQL soak the heap rose 1,121 ->
    1,362 MB over the 10 measured minutes (+23.7 MB a minute), and with 2 heaps it stayed within
    1,098-1,214 MB (+3.8 MB a minute) at the same throughput.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
