"""``collector_paused``: the cyclic collector off for bulk work, and on again after it."""

from __future__ import annotations

import gc
import weakref

import pytest

from oberih.collector import collector_paused


def test_the_collector_is_off_within_the_block_and_on_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failing_block_turns_it_on_again() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the chunk failed")
    assert gc.isenabled()


def test_a_nested_block_leaves_it_to_the_outer_one() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_cycle_made_in_the_block_waits_for_the_collector_and_is_then_freed() -> None:
    class Node:
        partner: Node

    with collector_paused():
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        alive = weakref.ref(first)
        del first, second
        assert alive() is not None  # reference counting cannot free a cycle
    gc.collect()
    assert alive() is None
