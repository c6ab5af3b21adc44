"""Pagination of any select (rows, not just scalars), in two queries whatever the size: by
offset, or by key for long lists whose deep pages an offset would make walk every row before."""

import math
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from app.extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def paginate_rows(query: Select, *, page: int, per_page: int) -> Page:
    page = max(1, page)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=_count(query))


def paginate_by_key(
    query: Select,
    key,
    *,
    page: int,
    per_page: int,
    after: str | None = None,
    before: str | None = None,
) -> Page:
    """A page of `query` (ordered by the unique `key`) that starts after the key `after` (the
    next page) or ends before `before` (the previous one), read like the first page whatever
    its number; with neither, by offset. `page` is the page's number, for its label."""
    if after is None and before is None:
        return paginate_rows(query, page=page, per_page=per_page)
    if after is not None:
        rows = db.session.execute(query.where(key > after).limit(per_page)).all()
    else:
        backwards = query.order_by(None).order_by(key.desc()).where(key < before)
        rows = db.session.execute(backwards.limit(per_page)).all()[::-1]
    return Page(items=list(rows), page=max(1, page), per_page=per_page, total=_count(query))
