"""Translated display names for the enums of the tree and the roles."""

from flask_babel import lazy_gettext as _l

from tenants.models import AssociationKind, Role

KIND_LABELS = {
    AssociationKind.PROVINCE: _l("Province"),
    AssociationKind.CITY: _l("City"),
    AssociationKind.COUNTY: _l("County / district"),
    AssociationKind.TOWNSHIP: _l("Township / street"),
    AssociationKind.COMMUNITY: _l("Community"),
    AssociationKind.VILLAGE: _l("Village"),
    AssociationKind.ENTERPRISE: _l("Enterprise"),
    AssociationKind.MIGRANT: _l("Migrant population"),
}

ROLE_LABELS = {
    Role.SECRETARY: _l("Secretary"),
    Role.STAFF: _l("Staff"),
    Role.MEMBER: _l("Member"),
    Role.AUDITOR: _l("Auditor"),
}

INVITATION_STATUS_LABELS = {
    "pending": _l("Pending"),
    "accepted": _l("Accepted"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
}
