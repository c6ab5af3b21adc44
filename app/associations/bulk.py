"""Setting up many associations below at once from a spreadsheet (.xlsx or .csv).

One row per child association: name, kind, division code, parent (name or division code),
served population, and optionally the first secretary's name and mobile number or email. The
same discipline as the member import: every row is checked first with the rules of the
one-by-one form (`onboarding.check_child`), the user sees a row-by-row report, nothing is
written until they confirm, and then every valid row goes in one transaction, with an
invitation for each first secretary.

A row's parent is the uploader's association (when the parent cell is empty or names it), an
association already below it, or a row further up in the same file; it is found by name or by
division code. Used by the web pages (app/associations/bulk_views.py) and by
`flask associations import` (app/associations/cli.py).
"""

import contextlib
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update

from app.accounts import services as accounts
from app.accounts.models import Invitation
from app.associations import onboarding
from app.associations.models import PopulationRecord
from app.core import audit
from app.core.clock import china_today
from app.core.labels import KIND_LABELS
from app.core.models import utcnow
from app.core.problems import Problem
from app.core.spreadsheets import Table, normalise_header, normalise_text, read_table
from app.extensions import db
from tenants import tree
from tenants.context import scope_for, tenant_context
from tenants.models import Association, AssociationKind, Role

ABANDONED_AFTER_SECONDS = 24 * 3600

FIELD_LABELS = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "division_code": _l("Division code"),
    "parent": _l("Parent (name or division code)"),
    "served_population": _l("Population served"),
    "secretary_name": _l("Secretary's name"),
    "secretary_login": _l("Secretary's mobile number or email"),
}
# Headings people use for each column (compared after normalise_header).
ALIASES = {
    "name": ("名称", "协会名称", "计生协名称", "单位名称", "名字", "name"),
    "kind": ("类型", "类别", "协会类型", "级别", "层级", "kind", "type"),
    "division_code": (
        "区划代码",
        "行政区划代码",
        "统计用区划代码",
        "代码",
        "divisioncode",
        "code",
    ),
    "parent": (
        "上级",
        "上级协会",
        "上级名称",
        "上级协会名称",
        "上级区划代码",
        "上级名称或代码",
        "所属上级",
        "parent",
    ),
    "served_population": (
        "服务人口",
        "人口",
        "人口数",
        "户籍人口",
        "population",
        "servedpopulation",
    ),
    "secretary_name": ("秘书长", "秘书长姓名", "负责人", "联系人", "secretary", "secretaryname"),
    "secretary_login": (
        "秘书长手机",
        "秘书长手机号",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话",
        "邮箱",
        "手机或邮箱",
        "手机号或邮箱",
        "phone",
        "mobile",
        "email",
        "secretaryphone",
        "secretarylogin",
    ),
}
KIND_WORDS = {
    AssociationKind.PROVINCE: {"省", "省级", "province"},
    AssociationKind.CITY: {"市", "地市", "市级", "city"},
    AssociationKind.COUNTY: {"县", "区", "县区", "县(区)", "县/区", "县级", "county", "district"},
    AssociationKind.TOWNSHIP: {"乡", "镇", "乡镇", "街道", "乡镇街道", "乡镇(街道)", "township"},
    AssociationKind.COMMUNITY: {"社区", "居委会", "community"},
    AssociationKind.VILLAGE: {"村", "行政村", "村委会", "village"},
    AssociationKind.ENTERPRISE: {"企业", "enterprise"},
    AssociationKind.MIGRANT: {"流动人口", "流动", "migrant"},
}


class BulkImportError(Problem):
    """The file as a whole cannot be imported; `message` is translated."""


@dataclass
class Problem:
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
    problems: list[Problem] = field(default_factory=list)
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
        self.problems.append(Problem(column, str(message)))


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
    def problems(self) -> list[tuple[int, Problem]]:
        return [(row.number, problem) for row in self.rows for problem in row.problems]


@dataclass
class Created:
    association: Association
    secretary_name: str | None = None
    secretary_login: str | None = None
    invited: bool = False


@dataclass
class Result:
    created: list[Created]
    rejected: int
    seconds: float


# ---- the file -----------------------------------------------------------------------------


def import_directory() -> Path:
    """Outside the web root, under the instance folder unless configured."""
    configured = current_app.config.get("ASSOCIATION_IMPORT_DIR")
    directory = (
        Path(configured) if configured else Path(current_app.instance_path) / "association-imports"
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def save_upload(stream, association: Association) -> str:
    """Keep an uploaded file under a server-generated name bound to the association until the
    user confirms or cancels; returns the name (the token the confirm form sends back)."""
    directory = import_directory()
    _remove_abandoned(directory)
    name = secrets.token_hex(16)
    with stored_path(name, association).open("wb") as target:
        while chunk := stream.read(1024 * 1024):
            target.write(chunk)
    return name


def stored_path(name: str, association: Association) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", name or ""):
        raise BulkImportError(
            _l("This import has expired or was cancelled: upload the file again.")
        )
    return import_directory() / f"{association.id}-{name}.upload"


# The heading words the shared reader scores rows with to find the heading row (the same
# reader as the member import: title rows, two-row headings, totals and signatures skipped).
HEADING_WORDS = frozenset(
    normalise_header(alias) for aliases in ALIASES.values() for alias in aliases
)


def stored_table(
    name: str, association: Association, *, sheet: str | None = None, heading_row: int | None = None
) -> Table:
    """The kept file read again, with the user's choice of sheet and heading row (1-based)."""
    path = stored_path(name, association)
    if not path.exists():
        raise BulkImportError(
            _l("This import has expired or was cancelled: upload the file again.")
        )
    return read_table(path, headings=HEADING_WORDS, sheet=sheet, heading_row=heading_row)


def discard(name: str, association: Association) -> None:
    with contextlib.suppress(BulkImportError, OSError):
        stored_path(name, association).unlink(missing_ok=True)


def _remove_abandoned(directory: Path) -> None:
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for path in directory.glob("*.upload"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def guess_columns(headers: list[str]) -> dict[int, str]:
    """Column index → field, for headings that match a known alias; exact matches first, then
    headings containing an alias (longest first)."""
    columns: dict[int, str] = {}
    taken: set[str] = set()
    normalised = [normalise_header(header) for header in headers]
    exact = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    for index, header in enumerate(normalised):
        name = exact.get(header)
        if name and name not in taken:
            columns[index] = name
            taken.add(name)
    by_length = sorted(exact.items(), key=lambda item: -len(item[0]))
    for index, header in enumerate(normalised):
        if index in columns or not header:
            continue
        for alias, name in by_length:
            if name not in taken and len(alias) > 1 and alias in header:
                columns[index] = name
                taken.add(name)
                break
    missing = [name for name in ("name", "served_population") if name not in taken]
    if missing:
        raise BulkImportError(
            _l(
                "The row of headings must name these columns, which were not found: %(fields)s. "
                "If the headings are on another row, choose it.",
                fields="、".join(str(FIELD_LABELS[name]) for name in missing),
            )
        )
    return columns


# ---- checking -------------------------------------------------------------------------------


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


# ---- writing --------------------------------------------------------------------------------


def write(report: Report, root: Association, actor: onboarding.Actor, *, inviter: str) -> Result:
    """Create every valid row's association, its population record and an invitation for its
    first secretary. Call inside one transaction; the caller commits.

    A 2,000-row file must go in seconds, so this writes in bulk what `onboarding.create_child`
    and `accounts.invite` write one at a time: the associations in one INSERT per depth of the
    tree (parents before children) and one UPDATE for their paths; then, inside each new
    child's own writable scope (the write guard and row-level security see one association at
    a time), one INSERT for its population record and one for its invitation. A brand-new
    association has no roles and no pending invitations, so the per-login checks of
    `accounts.invite` cannot refuse anything here. Every creation is audit-logged."""
    started = time.perf_counter()
    onboarding.ensure_may_set_up_below(actor, root)
    valid = report.valid_rows
    for row, slug in zip(valid, onboarding.free_slugs([row.spec for row in valid]), strict=True):
        row.slug = slug
    for depth in sorted({row.depth for row in valid}):
        _insert_level([row for row in valid if row.depth == depth])
    year = china_today().year
    now = utcnow()
    expires = now + timedelta(days=current_app.config["INVITATION_DAYS"])
    created: list[Created] = []
    for row in valid:
        child = row.created
        entry = Created(child, row.spec.secretary_name, row.spec.secretary_login)
        with tenant_context(scope_for(child, writable=True)):
            db.session.execute(
                insert(PopulationRecord),
                [
                    {
                        "association_id": child.id,
                        "from_year": year,
                        "population": row.spec.served_population,
                        "recorded_by_id": actor.id,
                        "created_at": now,
                    }
                ],
            )
            if row.spec.secretary_login:
                token = secrets.token_urlsafe(32)
                db.session.execute(
                    insert(Invitation),
                    [
                        {
                            "association_id": child.id,
                            "login": row.spec.secretary_login,
                            "name": row.spec.secretary_name,
                            "role": Role.SECRETARY,
                            "token_hash": accounts._token_hash(token),  # how every link is hashed
                            "invited_by_id": actor.id,
                            "expires_at": expires,
                            "created_at": now,
                        }
                    ],
                )
                accounts.send_invitation(
                    row.spec.secretary_login,
                    token,
                    association_name=child.name,
                    inviter=inviter,
                )
                entry.invited = True
        audit.record(
            "create_association",
            association_id=child.parent_id,
            target=child,
            user_id=actor.id,
            name=child.name,
            source="import",
            invited=entry.invited,
        )
        created.append(entry)
    audit.record(
        "import_associations",
        association_id=root.id,
        user_id=actor.id,
        created=len(created),
        rejected=len(report.rows) - len(valid),
    )
    db.session.flush()
    return Result(
        created=created,
        rejected=len(report.rows) - len(valid),
        seconds=time.perf_counter() - started,
    )


def _insert_level(rows: list[BulkRow]) -> None:
    """One INSERT for the associations of one depth, one UPDATE for their paths."""
    parents = [row.parent if row.parent is not None else row.parent_row.created for row in rows]
    now = utcnow()
    inserted = db.session.execute(
        insert(Association).returning(Association.id, sort_by_parameter_order=True),
        [
            {
                "name": row.spec.name,
                "slug": row.slug,
                "kind": row.spec.kind,
                "parent_id": parent.id,
                "division_code": row.spec.division_code,
                "served_population": row.spec.served_population,
                "path": "",
                "depth": parent.depth + 1,
                "created_at": now,
            }
            for row, parent in zip(rows, parents, strict=True)
        ],
    )
    ids = [association_id for (association_id,) in inserted]
    db.session.execute(
        update(Association),
        [
            {"id": association_id, "path": f"{parent.path}{association_id}/"}
            for association_id, parent in zip(ids, parents, strict=True)
        ],
    )
    loaded: dict[int, Association] = {}
    for start in range(0, len(ids), 500):
        for association in db.session.scalars(
            select(Association).where(Association.id.in_(ids[start : start + 500]))
        ):
            loaded[association.id] = association
    for row, association_id in zip(rows, ids, strict=True):
        row.created = loaded[association_id]
