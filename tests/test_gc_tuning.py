"""The collector's thresholds are raised inside the block only, never lowered, and restored
after it, also when the block raises."""

from __future__ import annotations

import gc

import pytest

from cptkg.gc_tuning import (
    BULK_THRESHOLD,
    collector_paused,
    fewer_collections,
    to_oldest_generation,
)


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


def test_collector_paused_inside_and_running_again_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_collector_paused_leaves_a_stopped_collector_stopped() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_pause_left_alive_is_in_the_oldest_generation() -> None:
    gc.collect()
    with collector_paused():
        kept = [[i] for i in range(5_000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert all(id(o) in oldest and id(o) not in young for o in kept)


def test_objects_frozen_by_the_program_stay_frozen() -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert to_oldest_generation() is False
        with collector_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert to_oldest_generation() is True
    assert gc.get_freeze_count() == 0
