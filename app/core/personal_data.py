"""Where a member's personal data lives (PIPL arts. 44–47): each domain that stores personal
data about members registers its section here, and what to erase when the member's record is
deleted, so the download stays complete while the members package depends on nothing above
it. The domains' sections are imported in one place, `app.registry`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    title: str
    headers: list[str]
    rows: list[list]


_SECTIONS: list[tuple[int, Callable[[Any], Section]]] = []
_ERASERS: list[Callable[[Any], None]] = []


def section(order: int):
    """Register `fn(member) -> Section`; the download lists sections by `order` (the member
    record 10, activities 20, events 30, dues 40, volunteering 50, household moves 60)."""

    def register(fn: Callable[[Any], Section]) -> Callable[[Any], Section]:
        if fn not in (registered for _order, registered in _SECTIONS):
            _SECTIONS.append((order, fn))
            _SECTIONS.sort(key=lambda item: item[0])
        return fn

    return register


def eraser(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register `fn(member)`, run when a member's record is deleted at their request, before
    the record itself goes: it deletes what the domain holds about the member."""
    if fn not in _ERASERS:
        _ERASERS.append(fn)
    return fn


def sections_for(member) -> list[Section]:
    return [fn(member) for _order, fn in _SECTIONS]


def erase(member) -> None:
    for fn in _ERASERS:
        fn(member)
