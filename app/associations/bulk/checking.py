"""Checking an association import before anything is written: every row with the rules of the
one-by-one form (`onboarding.check_child`), its parent found in the tree below the uploader or
further up the file, and division codes unique in the file and in the tree."""

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.associations import onboarding
from app.associations.bulk.columns import FIELD_LABELS, KIND_WORDS, guess_columns
from app.core.labels import KIND_LABELS
from app.core.spreadsheets import Table, normalise_text
from app.extensions import db
from tenants import tree
from tenants.models import Association, AssociationKind


@dataclass
class RowProblem:
    """One problem of a row: in a column (None: the row as a whole), and what to do."""

    column: str | None
    message: str

    @property
    def column_label(self) -> str:
        return str(FIELD_LABELS[self.column]) if self.column in FIELD_LABELS else ""


@dataclass
class BulkRow:
    number: int
    values: dict
    spec: onboarding.ChildSpec
    problems: list[RowProblem] = field(default_factory=list)
    # The parent: an existing association, or the (earlier) row of the file that creates it.
    parent: Association | None = None
    parent_row: "BulkRow | None" = None
    depth: int = 0
    slug: str | None = None
    created: Association | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, column: str | None, message: str) -> None:
        self.problems.append(RowProblem(column, str(message)))


@dataclass
class Report:
    rows: list[BulkRow]
    columns: dict[int, str]

    @property
    def valid_rows(self) -> list[BulkRow]:
        return [row for row in self.rows if row.valid]

    @property
    def rejected_rows(self) -> list[BulkRow]:
        return [row for row in self.rows if not row.valid]

    @property
    def problems(self) -> list[tuple[int, RowProblem]]:
        return [(row.number, problem) for row in self.rows for problem in row.problems]


def _kind(text: str) -> AssociationKind | None | bool:
    """The kind written in a cell; None when empty, False when not understood."""
    word = text.strip().lower()
    if not word:
        return None
    for kind, words in KIND_WORDS.items():
        if word in words or word == str(KIND_LABELS[kind]).lower():
            return kind
    return False


def _population(text: str) -> int | None | bool:
    cleaned = text.replace(",", "").replace("，", "").replace(" ", "")
    if not cleaned:
        return None
    if re.fullmatch(r"-?\d+(\.0+)?", cleaned):
        return int(cleaned.split(".")[0])
    return False


class _Lookup:
    """The associations at or below the uploader's that the file names as parents, by name and
    by division code, and the division codes of the file already in use anywhere (two
    queries)."""

    def __init__(self, root: Association, references: set[str], codes: set[str]):
        self.root = root
        self.by_name: dict[str, list[Association]] = {}
        self.by_code: dict[str, list[Association]] = {}
        self.codes_in_use: dict[str, str] = {}
        references = {reference for reference in references if reference}
        if references:
            for association in db.session.scalars(
                select(Association)
                .where(tree.subtree_filter(root.path))
                .where(
                    or_(
                        Association.name.in_(references),
                        Association.division_code.in_(references),
                    )
                )
            ):
                self.by_name.setdefault(association.name, []).append(association)
                if association.division_code:
                    self.by_code.setdefault(association.division_code, []).append(association)
        if codes:
            self.codes_in_use = dict(
                db.session.execute(
                    select(Association.division_code, Association.name).where(
                        Association.division_code.in_(codes)
                    )
                ).all()
            )

    def find(self, reference: str) -> list[Association]:
        return self.by_code.get(reference) or self.by_name.get(reference) or []

    @property
    def parent_ids(self) -> list[int]:
        ids = {self.root.id}
        for found in (*self.by_name.values(), *self.by_code.values()):
            ids.update(association.id for association in found)
        return sorted(ids)


def check_table(table: Table, root: Association) -> Report:
    """Check every row of the file against the tree below `root` as it is now."""
    columns = guess_columns(table.headers)
    rows: list[BulkRow] = []
    for number, cells in zip(table.row_numbers, table.rows, strict=True):
        values = {name: normalise_text(cells[index]) for index, name in columns.items()}
        rows.append(_row_from_values(number, values))
    lookup = _Lookup(
        root,
        {row.values.get("parent", "") for row in rows},
        {row.spec.division_code for row in rows if row.spec.division_code},
    )
    # Siblings already in the tree, for the parents that exist (one query).
    existing_siblings = onboarding.siblings_of(lookup.parent_ids)
    file_siblings: dict[int, onboarding.Siblings] = {}
    by_name: dict[str, list[BulkRow]] = {}
    by_code: dict[str, list[BulkRow]] = {}
    for row in rows:
        if row.spec.name:
            by_name.setdefault(row.spec.name, []).append(row)
        if row.spec.division_code:
            by_code.setdefault(row.spec.division_code, []).append(row)
    for row in rows:
        _resolve_parent(row, root, lookup, by_name, by_code)
        if row.parent is None and row.parent_row is None:
            continue
        if row.parent_row is not None:
            parent = _standin(row.parent_row)
            siblings = file_siblings.setdefault(id(row.parent_row), onboarding.Siblings())
            row.depth = row.parent_row.depth + 1
        else:
            parent = row.parent
            siblings = existing_siblings.setdefault(parent.id, onboarding.Siblings())
            row.depth = 1
        onboarding.check_child(parent, row.spec, siblings)
        flagged = {problem.column for problem in row.problems}  # unreadable kind or number
        for column, message in row.spec.errors.items():
            if column not in flagged:
                row.add(column, message)
        if row.spec.name:
            siblings.names.add(row.spec.name)
        if row.spec.division_code:
            siblings.codes.add(row.spec.division_code)
    _check_codes_unique(rows, lookup)
    for row in rows:  # in file order: a parent's late problems reach its children
        if row.valid and row.parent_row is not None and not row.parent_row.valid:
            row.add(
                "parent",
                _(
                    "Row %(row)d, its parent, has problems: fix that row first.",
                    row=row.parent_row.number,
                ),
            )
    return Report(rows=rows, columns=columns)


def _row_from_values(number: int, values: dict) -> BulkRow:
    kind = _kind(values.get("kind", ""))
    population = _population(values.get("served_population", ""))
    spec = onboarding.ChildSpec(
        name=values.get("name", ""),
        kind=kind or None,
        division_code=values.get("division_code", ""),
        served_population=population if population is not False else None,
        secretary_name=values.get("secretary_name", ""),
        secretary_login=values.get("secretary_login", ""),
    )
    row = BulkRow(number=number, values=values, spec=spec)
    if kind is False:
        row.add(
            "kind",
            _(
                "Unknown kind “%(value)s”: write 乡镇, 社区, 村, 企业 or 流动人口 (or leave it "
                "empty and give a division code).",
                value=values["kind"][:30],
            ),
        )
    if population is False:
        row.add("served_population", _("Write the population as a whole number, e.g. 3200."))
    return row


def _resolve_parent(row, root, lookup, by_name, by_code) -> None:
    reference = row.values.get("parent", "")
    if not reference or reference in (root.name, root.division_code, root.slug):
        row.parent = root
        return
    in_file = by_code.get(reference) or by_name.get(reference) or []
    earlier = [other for other in in_file if other.number < row.number and other is not row]
    existing = [association for association in lookup.find(reference) if association != root]
    candidates = len(earlier) + len(existing)
    if candidates > 1:
        row.add(
            "parent",
            _(
                "Several associations are called “%(value)s”: give the parent's division code.",
                value=reference[:40],
            ),
        )
    elif earlier:
        parent_row = earlier[0]
        if not parent_row.valid:
            row.add(
                "parent",
                _(
                    "Row %(row)d, its parent, has problems: fix that row first.",
                    row=parent_row.number,
                ),
            )
        else:
            row.parent_row = parent_row
    elif existing:
        row.parent = existing[0]
    elif [other for other in in_file if other is not row]:
        row.add(
            "parent",
            _(
                "Row %(row)d, its parent, comes later in the file: put parents above their "
                "children.",
                row=in_file[0].number,
            ),
        )
    elif _exists_elsewhere(reference):
        row.add(
            "parent",
            _(
                "“%(value)s” is not below %(name)s: you can only set up associations in your "
                "own part of the tree.",
                value=reference[:40],
                name=root.name,
            ),
        )
    else:
        row.add(
            "parent",
            _(
                "No association “%(value)s” below %(name)s or earlier in the file.",
                value=reference[:40],
                name=root.name,
            ),
        )


def _exists_elsewhere(reference: str) -> bool:
    return (
        db.session.scalar(
            select(Association.id)
            .where(or_(Association.name == reference, Association.division_code == reference))
            .limit(1)
        )
        is not None
    )


def _standin(parent_row: BulkRow) -> Association:
    """A transient association for a parent the file creates, for checks by kind and code."""
    return Association(
        name=parent_row.spec.name,
        kind=parent_row.spec.kind,
        division_code=parent_row.spec.division_code,
    )


def _check_codes_unique(rows: list[BulkRow], lookup: _Lookup) -> None:
    """A division code belongs to one association: not twice in the file, not one in use."""
    seen: dict[str, int] = {}
    for row in rows:
        code = row.spec.division_code
        if not code or "division_code" in row.spec.errors:
            continue
        if code in seen:
            row.add("division_code", _("Row %(row)d has the same division code.", row=seen[code]))
            continue
        seen[code] = row.number
        if code in lookup.codes_in_use and not any(
            problem.column == "division_code" for problem in row.problems
        ):
            row.add(
                "division_code",
                _("%(name)s already has this division code.", name=lookup.codes_in_use[code]),
            )
