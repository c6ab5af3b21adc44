"""Marks another domain puts on associations in the dashboards: the model associations
(示范协会) of app/assessments. The domain registers a reader on import (app/registry.py), so
the dashboards show and count its marks without importing it (it sits above them).

A reader takes the year and returns {association id: path} for every marked association the
current scope reads (one query); the dashboards call it inside `subtree_reads()`, once per page
or export whatever the number of rows, and count a subtree's marks by path.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import LazyString

Reader = Callable[[int], dict[int, str]]


@dataclass(frozen=True)
class MarkKind:
    key: str
    label: LazyString  # the column heading and the badge's title
    symbol: str  # the badge on the pages
    read: Reader


KINDS: dict[str, MarkKind] = {}


def register(key: str, label: LazyString, symbol: str) -> Callable[[Reader], Reader]:
    def decorate(read: Reader) -> Reader:
        KINDS[key] = MarkKind(key, label, symbol, read)
        return read

    return decorate


@dataclass(frozen=True)
class Marks:
    """The marks of one year in a subtree: {mark key: {association id: path}}."""

    found: dict[str, dict[int, str]]

    def of(self, association_id: int) -> list[MarkKind]:
        return [KINDS[key] for key, marked in self.found.items() if association_id in marked]

    def text(self, association_id: int) -> str:
        return "、".join(str(kind.label) for kind in self.of(association_id))

    def count_below(self, key: str, path: str) -> int:
        """Marked associations in the subtree at `path` (the association itself included)."""
        return sum(1 for marked in self.found.get(key, {}).values() if marked.startswith(path))


NO_MARKS = Marks({})


def read_marks(year: int) -> Marks:
    """Every registered kind of mark of the year in the current scope: one query per kind.
    Call it inside `subtree_reads()`."""
    return Marks({key: kind.read(year) for key, kind in KINDS.items()})
