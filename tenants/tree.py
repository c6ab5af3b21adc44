"""Operations on the association tree: subtree ranges, creating and moving associations."""

import re

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.core.problems import Problem
from app.extensions import db
from tenants.models import Association, AssociationKind

DIVISION_CODE = re.compile(r"^\d{12}$")
# Significant digits of a division code per level: 省 2, 市 4, 县 6, 乡镇 9, 村/社区 12.
DIVISION_PREFIX_BY_LEVEL = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


class TreeError(Problem):
    """A change to the tree that would break it; the message is shown to the user."""


def subtree_bounds(path: str) -> tuple[str, str]:
    """[low, high) such that every descendant's path (and its own) falls inside.

    Paths end in "/", and "0" is the byte after "/", so the range is exactly the prefix.
    """
    return path, path[:-1] + "0"


def subtree_filter(path: str):
    low, high = subtree_bounds(path)
    return (Association.path >= low) & (Association.path < high)


def division_code_level(code: str) -> int:
    """The level a 12-digit division code designates, from its trailing zeros."""
    for level in (1, 2, 3, 4):
        significant = DIVISION_PREFIX_BY_LEVEL[level]
        if code[significant:] == "0" * (12 - significant):
            return level
    return 5


LEVEL_KINDS = {
    1: AssociationKind.PROVINCE,
    2: AssociationKind.CITY,
    3: AssociationKind.COUNTY,
    4: AssociationKind.TOWNSHIP,
}


def kind_for_division_code(code: str) -> AssociationKind | None:
    """The kind a well-formed code designates; None for a 12-digit grassroots code, which fits
    a community, a village, an enterprise or a migrant association alike."""
    return LEVEL_KINDS.get(division_code_level(code))


def check_division_code(code: str, kind: AssociationKind, parent: Association | None) -> str | None:
    """Return an error message key, or None when the code fits the kind and the parent."""
    if not DIVISION_CODE.match(code):
        return _("A division code has exactly 12 digits.")
    if division_code_level(code) != kind.level and not (
        kind.is_grassroots and division_code_level(code) == 5
    ):
        return _("This division code designates another level than the association's kind.")
    if parent is not None and parent.division_code:
        prefix = parent.division_code[: DIVISION_PREFIX_BY_LEVEL[parent.level]]
        if not code.startswith(prefix):
            return _("The division code must lie within the parent's (%(prefix)s…).", prefix=prefix)
    return None


def check_parent_kind(kind: AssociationKind, parent: Association | None) -> str | None:
    if parent is None:
        return None
    if parent.kind.is_grassroots:
        return _("A grassroots association cannot have associations under it.")
    if kind.level <= parent.level:
        return _("An association must be at a lower level than its parent.")
    return None


def create_association(
    *,
    name: str,
    slug: str,
    kind: AssociationKind,
    parent: Association | None,
    division_code: str | None = None,
    served_population: int | None = None,
) -> Association:
    """Insert an association and give it its path (which needs its id)."""
    for error in (
        check_parent_kind(kind, parent),
        division_code and check_division_code(division_code, kind, parent),
    ):
        if error:
            raise TreeError(error)
    association = Association(
        name=name,
        slug=slug,
        kind=kind,
        parent_id=parent.id if parent else None,
        division_code=division_code or None,
        served_population=served_population,
    )
    db.session.add(association)
    db.session.flush()
    association.path = f"{parent.path if parent else '/'}{association.id}/"
    association.depth = (parent.depth + 1) if parent else 0
    db.session.flush()
    return association


def check_move(association: Association, new_parent: Association) -> str | None:
    """Why the association may not go under `new_parent`, or None. Besides the tree's own
    rules, the new parent sits at the level of the current one (a village moves to another
    township, not under a county) and the association's division code lies within the new
    parent's: a mistyped web address name would otherwise hand its people's data to another
    county."""
    low, high = subtree_bounds(association.path)
    if low <= new_parent.path < high:
        return _("An association cannot be moved under itself or its own descendants.")
    error = check_parent_kind(association.kind, new_parent)
    if error:
        return error
    if association.parent_id is not None:
        if new_parent.id == association.parent_id:
            return _("The association already sits under %(parent)s.", parent=new_parent.name)
        current = db.session.get(Association, association.parent_id)
        if current is not None and current.level != new_parent.level:
            return _("The new parent must be at the level of the current one.")
    if association.division_code and new_parent.division_code:
        return check_division_code(association.division_code, association.kind, new_parent)
    return None


def move_association(association: Association, new_parent: Association) -> None:
    """Re-hang an association (and everything below it) under another parent.

    One UPDATE rewrites the path prefix of the whole subtree, so the tree stays consistent.
    """
    error = check_move(association, new_parent)
    if error:
        raise TreeError(error)
    low, high = subtree_bounds(association.path)
    old_path = association.path
    new_path = f"{new_parent.path}{association.id}/"
    depth_change = new_parent.depth + 1 - association.depth
    db.session.execute(
        update(Association)
        .where(Association.path >= low, Association.path < high)
        .values(
            path=new_path + func.substr(Association.path, len(old_path) + 1),
            depth=Association.depth + depth_change,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Association).where(Association.id == association.id).values(parent_id=new_parent.id)
    )
    db.session.expire_all()


def descendants(association: Association):
    """A select of the associations strictly below this one, in tree order."""
    return (
        select(Association)
        .where(subtree_filter(association.path), Association.id != association.id)
        .order_by(Association.path)
    )
