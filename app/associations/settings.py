"""An association's settings: display name, contact, served population with its history, logo."""

from flask_babel import gettext as _
from sqlalchemy import func, select, true
from werkzeug.datastructures import FileStorage

from app.associations.models import AssociationSettings, PopulationRecord
from app.core import uploads
from app.core.audit import record
from app.core.clock import china_today
from app.core.id_lists import one_of
from app.core.problems import Problem
from app.extensions import db
from tenants.models import Association


class SettingsError(Problem):
    """A refused settings change; `field` names the form field the message belongs to."""


def settings_of(association: Association) -> AssociationSettings:
    """The association's settings row, or an unsaved default one (run in its scope)."""
    settings = db.session.scalar(select(AssociationSettings))
    return settings or AssociationSettings(association_id=association.id)


def update_settings(
    association: Association,
    *,
    name: str,
    contact_name: str | None,
    contact_phone: str | None,
    contact_email: str | None,
    address: str | None,
) -> None:
    name = name.strip()
    if name != association.name and association.parent_id is not None:
        taken = db.session.scalar(
            select(Association.id).where(
                Association.parent_id == association.parent_id,
                Association.name == name,
                Association.id != association.id,
            )
        )
        if taken:
            raise SettingsError(
                _("Another association under the same parent already has this name."), "name"
            )
    changed = [
        key
        for key, value in (
            ("name", name),
            ("contact_name", contact_name or None),
            ("contact_phone", contact_phone or None),
        )
        if getattr(association, key) != value
    ]
    association.name = name
    association.contact_name = contact_name or None
    association.contact_phone = contact_phone or None
    settings = settings_of(association)
    settings.contact_email = (contact_email or "").strip().lower() or None
    settings.address = (address or "").strip() or None
    db.session.add(settings)
    db.session.flush()
    if changed:
        # The association row is not a tenant row, so the automatic change log does not see it.
        record(
            "update_association", association_id=association.id, target=association, fields=changed
        )


def population_history() -> list[PopulationRecord]:
    return list(
        db.session.scalars(select(PopulationRecord).order_by(PopulationRecord.from_year.desc()))
    )


def record_population(
    association: Association, *, from_year: int, population: int, recorded_by_id: int | None
) -> None:
    """Set the population served from a year on; the current figure on the association follows
    the population in force this year. Earlier years keep their own figure."""
    if population <= 0:
        raise SettingsError(_("Enter a population above zero."), "population")
    if from_year > china_today().year + 1:
        raise SettingsError(_("A population can be set at most for next year."), "from_year")
    entry = db.session.scalar(
        select(PopulationRecord).where(PopulationRecord.from_year == from_year)
    )
    if entry is None:
        entry = PopulationRecord(association_id=association.id, from_year=from_year)
        db.session.add(entry)
    entry.population = population
    entry.recorded_by_id = recorded_by_id
    db.session.flush()
    current = populations_in_force(china_today().year, [association.id]).get(association.id)
    association.served_population = current


def populations_in_force(year: int, association_ids: list[int] | None) -> dict[int, int | None]:
    """The population each association served in `year` (one query): the record with the
    latest `from_year` not after `year`, else the association's own figure (None if neither).
    `association_ids` None means every association the current scope reads (wrap in
    subtree_reads() for a roll-up; the dashboards' figures job reads them all)."""

    def restrict(column):
        return one_of(column, association_ids) if association_ids is not None else true()

    latest = (
        select(
            PopulationRecord.association_id,
            func.max(PopulationRecord.from_year).label("from_year"),
        )
        .where(PopulationRecord.from_year <= year, restrict(PopulationRecord.association_id))
        .group_by(PopulationRecord.association_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Association.id, Association.served_population, PopulationRecord.population)
        .outerjoin(latest, latest.c.association_id == Association.id)
        .outerjoin(
            PopulationRecord,
            (PopulationRecord.association_id == latest.c.association_id)
            & (PopulationRecord.from_year == latest.c.from_year),
        )
        .where(restrict(Association.id))
    )
    return {
        association_id: recorded if recorded is not None else current
        for association_id, current, recorded in rows
    }


def population_in_force(association: Association, year: int) -> int | None:
    """The population for the member ratio of `year` (run in the association's scope)."""
    return populations_in_force(year, [association.id]).get(association.id)


def logo_of() -> uploads.StoredFile | None:
    return db.session.scalar(
        select(uploads.StoredFile)
        .where(uploads.StoredFile.purpose == uploads.LOGO.purpose)
        .order_by(uploads.StoredFile.id.desc())
        .limit(1)
    )


def replace_logo(association: Association, file: FileStorage, *, uploaded_by_id: int) -> None:
    """Keep the new logo (checked and re-encoded by app.core.uploads), then drop the old one."""
    old = logo_of()
    uploads.store_upload(
        file, uploads.LOGO, association_id=association.id, uploaded_by_id=uploaded_by_id
    )
    if old is not None:
        uploads.delete_stored_file(old)
