"""Fewer cyclic garbage-collector passes while large data is built.

Python's collector runs a pass every 700 container allocations and, now and then, a full pass
over every object alive, the loaded graph's included. Building new data of 10^5 triples
(rdflib terms, tuples, dicts: no reference cycles) allocates millions of containers: with the
default thresholds the passes cost a fifth of ``import-csv`` of 10,000 rows and free nothing.
:func:`fewer_collections` raises the first threshold for the duration of such work; cycles
are still collected, only less often.
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
