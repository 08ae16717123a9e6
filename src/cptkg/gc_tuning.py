"""Fewer cyclic garbage-collector passes while large data is built.

Python's collector runs a pass every 700 container allocations and, now and then, a full pass
over every object alive, the loaded graph's included. Building new data of 10^5 triples
(rdflib terms, tuples, dicts: no reference cycles) allocates millions of containers: with the
default thresholds the passes cost a fifth of ``import-csv`` of 10,000 rows and free nothing.
:func:`fewer_collections` raises the first threshold for the duration of such work; cycles
are still collected, only less often. :func:`collector_paused` stops the collector for a pass
over a store that makes no cycles at all, and :func:`to_oldest_generation` moves what such work
leaves alive to the oldest generation without the young-generation passes over it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Container allocations between two young-generation passes inside :func:`fewer_collections`.
BULK_THRESHOLD = 100_000


@contextlib.contextmanager
def fewer_collections(threshold: int = BULK_THRESHOLD) -> Iterator[None]:
    """Run the block with the young-generation threshold raised to ``threshold`` (never
    lowered); the thresholds in force before are restored after it."""
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without cyclic garbage collection (for the whole process: it is one
    collector), then move what it left alive to the oldest generation
    (:func:`to_oldest_generation`) and let the collector run again if it ran before.

    For a pass over millions of quads that allocates a block per subject and makes no
    reference cycle: the collector would start a pass every few hundred subjects and find
    nothing. What the pass keeps (the focus nodes and values it found: pyoxigraph terms are
    tracked by the collector, a million of them after a pass over 5M triples) would otherwise
    be traversed by a young-generation pass, then by a middle-generation pass, as soon as the
    collector runs again: 0.6 s after a pass over 5M triples."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        to_oldest_generation()
        if enabled:
            gc.enable()


def to_oldest_generation() -> bool:
    """Move every object the collector tracks to its oldest generation in one step
    (``gc.freeze`` then ``gc.unfreeze``: two list splices, whatever the number of objects), so
    that no young-generation pass traverses them; they are still collected by the next full
    pass. Does nothing, and returns False, while objects are frozen (``gc.freeze`` by the
    program, such as a server before it forks): unfreezing them would undo that."""
    if gc.get_freeze_count():
        return False
    gc.freeze()
    gc.unfreeze()
    return True
