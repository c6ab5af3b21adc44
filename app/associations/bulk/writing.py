"""Writing a checked association import in one transaction, in bulk: the associations one
INSERT per depth of the tree, then each one's population record and its first secretary's
invitation, every creation audit-logged."""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select, update

from app.accounts import services as accounts
from app.accounts.models import Invitation
from app.associations import onboarding
from app.associations.bulk.checking import BulkRow, Report
from app.associations.models import PopulationRecord
from app.core import audit
from app.core.clock import china_today, utcnow
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Association, Role


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
