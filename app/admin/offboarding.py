"""Offboarding: export an association's subtree (every tenant table as .xlsx sheets, plus its
uploaded files) in one .zip, then delete all of it for good on the operator's confirmation.

Tenant tables are found from the models that inherit TenantMixin, so tables other modules
add later are exported and deleted without this file changing.
"""

import enum
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import Table, delete, func, select

from app.accounts.models import User
from app.core import uploads
from app.dashboards import totals as subtree_totals
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, Membership, TenantMixin
from tenants.tree import subtree_filter

BYPASS_EXPORT = "offboarding: the operator exports a whole subtree"
BYPASS_DELETE = "offboarding: the operator deletes a whole subtree for good"


def tenant_models() -> list[type]:
    """Every tenant-owned model of the app, in dependency order (referenced tables first)."""
    by_table = {
        mapper.class_.__table__: mapper.class_
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantMixin) and isinstance(mapper.class_.__table__, Table)
    }
    return [by_table[table] for table in db.metadata.sorted_tables if table in by_table]


def subtree_of(association: Association) -> list[Association]:
    return list(
        db.session.scalars(
            select(Association).where(subtree_filter(association.path)).order_by(Association.path)
        )
    )


def _cell(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _sheet(workbook: Workbook, title: str, table: Table, rows) -> None:
    sheet = workbook.create_sheet(title[:31])
    sheet.append([column.name for column in table.columns])
    for row in rows:
        sheet.append([_cell(value) for value in row])


def export_subtree(association: Association) -> bytes:
    """One .zip: data.xlsx (a sheet per table, the subtree's rows only) and files/<key>."""
    associations = subtree_of(association)
    ids = [node.id for node in associations]
    workbook = Workbook(write_only=True)
    archive_buffer = io.BytesIO()
    with UNSCOPED_BYPASS(BYPASS_EXPORT):
        association_table = Association.__table__
        _sheet(
            workbook,
            "associations",
            association_table,
            db.session.execute(
                select(association_table).where(association_table.c.id.in_(ids))
            ).all(),
        )
        user_ids = select(Membership.user_id).where(Membership.association_id.in_(ids))
        user_columns = [c for c in User.__table__.columns if c.name != "password_hash"]
        sheet = workbook.create_sheet("users")
        sheet.append([column.name for column in user_columns])
        for row in db.session.execute(select(*user_columns).where(User.id.in_(user_ids))):
            sheet.append([_cell(value) for value in row])
        for model in tenant_models():
            table = model.__table__
            rows = db.session.execute(
                select(table).where(table.c.association_id.in_(ids)).order_by(*table.primary_key)
            ).all()
            _sheet(workbook, table.name, table, rows)
        files = list(
            db.session.scalars(
                select(uploads.StoredFile).where(uploads.StoredFile.association_id.in_(ids))
            )
        )
        with zipfile.ZipFile(archive_buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            book = io.BytesIO()
            workbook.save(book)
            archive.writestr("data.xlsx", book.getvalue())
            for stored in files:
                try:
                    archive.writestr(f"files/{stored.storage_key}", uploads.read_file(stored))
                except KeyError:
                    archive.writestr(f"files/{stored.storage_key}.missing", b"")
    return archive_buffer.getvalue()


@dataclass(frozen=True)
class DeletionReport:
    associations: int
    rows: int
    users: int
    files: int


def delete_subtree(association: Association) -> DeletionReport:
    """Delete the subtree's rows of every tenant table, its associations, its uploaded files,
    and the logins that held roles only there. The caller commits."""
    associations = subtree_of(association)
    ids = [node.id for node in associations]
    rows = 0
    subtree_totals.detach(association)
    with UNSCOPED_BYPASS(BYPASS_DELETE):
        user_ids = set(
            db.session.scalars(select(Membership.user_id).where(Membership.association_id.in_(ids)))
        )
        files = sum(uploads.delete_association_files(association_id) for association_id in ids)
        for model in reversed(tenant_models()):
            if model.tenant_append_only:
                continue  # the audit log: removed with the associations (ON DELETE CASCADE)
            table = model.__table__
            rows += db.session.execute(
                delete(table).where(table.c.association_id.in_(ids))
            ).rowcount
        for depth in sorted({node.depth for node in associations}, reverse=True):
            db.session.execute(
                delete(Association.__table__).where(
                    Association.__table__.c.id.in_(ids), Association.__table__.c.depth == depth
                )
            )
        still_holding = set(
            db.session.scalars(
                select(Membership.user_id).where(Membership.user_id.in_(user_ids)).distinct()
            )
        )
        orphans = [
            user_id
            for user_id in db.session.scalars(
                select(User.id).where(User.id.in_(user_ids), User.is_platform_admin.is_(False))
            )
            if user_id not in still_holding
        ]
        if orphans:
            db.session.execute(delete(User.__table__).where(User.__table__.c.id.in_(orphans)))
    db.session.expire_all()
    return DeletionReport(associations=len(ids), rows=rows, users=len(orphans), files=files)


def remaining_rows(association_ids: list[int]) -> dict[str, int]:
    """Rows still held for these associations, per table (what the deletion test checks)."""
    counts = {}
    with UNSCOPED_BYPASS("offboarding check: count what is left of a deleted subtree"):
        counts["associations"] = db.session.scalar(
            select(func.count()).select_from(Association).where(Association.id.in_(association_ids))
        )
        for model in tenant_models():
            table = model.__table__
            counts[table.name] = db.session.scalar(
                select(func.count())
                .select_from(table)
                .where(table.c.association_id.in_(association_ids))
            )
    return counts
