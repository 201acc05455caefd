"""Strict, bounded CBOR decoding for untrusted document bytes.

A scanned code is attacker-controlled. Before cbor2 builds any Python object we walk the
encoded bytes once (the well-formedness check of RFC 8949 Appendix C) and reject:

* nesting deeper than ``max_depth`` and more than ``max_items`` data items in total;
* declared lengths and counts larger than the bytes that remain (no huge allocations);
* tags outside the caller's allow-list (cbor2 would otherwise build shared references, sets,
  bignums, regular expressions, ... that no document needs);
* reserved additional-information values, stray "break" bytes, malformed indefinite strings;
* trailing bytes after the single top-level item (``cbor2.loads`` silently ignores them).

Only then is cbor2 asked to decode, with its own depth limit and duplicate map keys refused
(two values for one claim would make the claim ambiguous).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from oberih.documents.errors import MalformedDocumentError

_BREAK = 0xFF
_INDEFINITE = 31


@dataclass(frozen=True, slots=True)
class CborLimits:
    """Bounds for one decode; the defaults are ample for a document and tiny for an attacker."""

    max_depth: int = 16
    max_items: int = 2048
    allowed_tags: frozenset[int] = frozenset()


class _Scanner:
    """One pass over the bytes; raises ``MalformedDocumentError`` at the first violation."""

    def __init__(self, data: bytes, limits: CborLimits) -> None:
        self.data = data
        self.limits = limits
        self.pos = 0
        self.items = 0

    def scan(self) -> None:
        self.item(depth=1)
        if self.pos != len(self.data):
            raise MalformedDocumentError("trailing bytes after the CBOR item")

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.pos:
            raise MalformedDocumentError("CBOR item runs past the end of its input")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def head(self) -> tuple[int, int]:
        initial = self.take(1)[0]
        return initial >> 5, initial & 0x1F

    def argument(self, info: int) -> int:
        if info < 24:
            return info
        if info <= 27:
            return int.from_bytes(self.take(1 << (info - 24)), "big")
        raise MalformedDocumentError("reserved CBOR additional information")

    def count_item(self, depth: int) -> None:
        self.items += 1
        if self.items > self.limits.max_items:
            raise MalformedDocumentError("too many CBOR data items")
        if depth > self.limits.max_depth:
            raise MalformedDocumentError("CBOR nesting too deep")

    def item(self, depth: int) -> None:
        self.count_item(depth)
        major, info = self.head()
        if info == _INDEFINITE:
            self.indefinite(major, depth)
            return
        argument = self.argument(info)
        if major in (2, 3):
            self.take(argument)
        elif major in (4, 5):
            self.container(argument * (2 if major == 5 else 1), depth)
        elif major == 6:
            if argument not in self.limits.allowed_tags:
                raise MalformedDocumentError(f"CBOR tag {argument} not allowed here")
            self.item(depth + 1)
        elif major == 7 and info == 24 and argument < 32:
            raise MalformedDocumentError("non-canonical two-byte simple value")

    def container(self, children: int, depth: int) -> None:
        # Every child takes at least one byte: a larger count is a lie, caught before looping.
        if children > len(self.data) - self.pos:
            raise MalformedDocumentError("CBOR container longer than its input")
        for _ in range(children):
            self.item(depth + 1)

    def at_break(self) -> bool:
        if self.pos >= len(self.data):
            raise MalformedDocumentError("indefinite-length CBOR item without break")
        if self.data[self.pos] == _BREAK:
            self.pos += 1
            return True
        return False

    def indefinite(self, major: int, depth: int) -> None:
        if major in (2, 3):
            while not self.at_break():
                self.count_item(depth + 1)
                chunk_major, chunk_info = self.head()
                if chunk_major != major or chunk_info == _INDEFINITE:
                    raise MalformedDocumentError("bad chunk in indefinite-length CBOR string")
                self.take(self.argument(chunk_info))
        elif major in (4, 5):
            while not self.at_break():
                self.item(depth + 1)
                if major == 5:
                    self.item(depth + 1)
        else:
            raise MalformedDocumentError("stray CBOR break or invalid indefinite length")


def check_well_formed(data: bytes, limits: CborLimits) -> bool:
    """Raise ``MalformedDocumentError`` unless ``data`` is exactly one well-formed CBOR item.

    Returns whether the item contains a tag (only then can cbor2 hand back immutable
    containers that ``thaw`` must replace)."""
    tagged = _scan_definite(data, limits)
    if tagged is None:  # an indefinite-length item: the general scanner handles those
        _Scanner(data, limits).scan()
        return True
    return tagged


def _scan_definite(data: bytes, limits: CborLimits) -> bool | None:
    """The same checks as ``_Scanner`` in one loop over definite-length items, with a stack of
    the items still due in each open container instead of recursion: scanning costs a few
    microseconds per document instead of tens. Returns ``None`` at the first indefinite-length
    item (left to ``_Scanner``), else whether a tag was seen."""
    end = len(data)
    max_items, max_depth, allowed_tags = limits.max_items, limits.max_depth, limits.allowed_tags
    pos = items = 0
    depth = due = 1
    tagged = False
    open_containers: list[int] = []
    while True:
        if due == 0:
            if not open_containers:
                break
            due = open_containers.pop()
            depth -= 1
            continue
        due -= 1
        items += 1
        if items > max_items:
            raise MalformedDocumentError("too many CBOR data items")
        if depth > max_depth:
            raise MalformedDocumentError("CBOR nesting too deep")
        if pos >= end:
            raise MalformedDocumentError("CBOR item runs past the end of its input")
        initial = data[pos]
        pos += 1
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            argument = info
        elif info <= 27:
            size = 1 << (info - 24)
            if size > end - pos:
                raise MalformedDocumentError("CBOR item runs past the end of its input")
            argument = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        elif info == _INDEFINITE:
            return None
        else:
            raise MalformedDocumentError("reserved CBOR additional information")
        if major == 2 or major == 3:
            if argument > end - pos:
                raise MalformedDocumentError("CBOR item runs past the end of its input")
            pos += argument
        elif major == 4 or major == 5:
            children = argument * 2 if major == 5 else argument
            # Every child takes at least one byte: a larger count is a lie.
            if children > end - pos:
                raise MalformedDocumentError("CBOR container longer than its input")
            if children:
                open_containers.append(due)
                due = children
                depth += 1
        elif major == 6:
            if argument not in allowed_tags:
                raise MalformedDocumentError(f"CBOR tag {argument} not allowed here")
            tagged = True
            open_containers.append(due)
            due = 1
            depth += 1
        elif major == 7 and info == 24 and argument < 32:
            raise MalformedDocumentError("non-canonical two-byte simple value")
    if pos != end:
        raise MalformedDocumentError("trailing bytes after the CBOR item")
    return tagged


def loads_strict(data: bytes, limits: CborLimits) -> Any:
    """Decode one CBOR item from untrusted bytes within ``limits`` (see the module doc)."""
    return _loads_checked(data, limits)[0]


def loads_plain(data: bytes, limits: CborLimits) -> Any:
    """``loads_strict`` with plain dicts and lists throughout (``thaw``, when needed)."""
    value, tagged = _loads_checked(data, limits)
    return thaw(value) if tagged else value


def _loads_checked(data: bytes, limits: CborLimits) -> tuple[Any, bool]:
    tagged = check_well_formed(data, limits)
    try:
        return cbor2.loads(data, max_depth=limits.max_depth, allow_duplicate_keys=False), tagged
    except (cbor2.CBORDecodeError, ValueError, OverflowError) as exc:
        # ValueError/OverflowError: semantic decoding of an allowed tag (a bad date string).
        raise MalformedDocumentError(f"CBOR decoding failed: {exc}") from None


def thaw(value: Any) -> Any:
    """cbor2 returns frozendicts and tuples inside tags: give plain dicts and lists back.

    Map keys stay as decoded (they must stay hashable); schema checks reject odd ones.
    """
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value


def dumps_deterministic(value: Any) -> bytes:
    """Encode with the core deterministic rules of RFC 8949 §4.2.1 (sorted map keys)."""
    return cbor2.dumps(value, canonical=True)
