"""The collector's thresholds are raised inside the block only, never lowered, and restored
after it, also when the block raises."""

from __future__ import annotations

import gc

import pytest

from cptkg.gc_tuning import BULK_THRESHOLD, fewer_collections


def test_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        inside = gc.get_threshold()
    assert inside == (max(BULK_THRESHOLD, before[0]), *before[1:])
    assert gc.get_threshold() == before


def test_never_lowered_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(threshold=1):
        assert gc.get_threshold() == before
        raise RuntimeError("inside")
    assert gc.get_threshold() == before


def test_works_as_a_decorator_and_nested() -> None:
    before = gc.get_threshold()

    @fewer_collections()
    def inner() -> tuple[int, ...]:
        with fewer_collections(BULK_THRESHOLD * 2):
            return gc.get_threshold()

    assert inner()[0] == max(BULK_THRESHOLD * 2, before[0])
    assert gc.get_threshold() == before
