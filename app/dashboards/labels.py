"""Translated names of the dashboards' targets, 七有 statuses and flags."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.dashboards.definitions import target_text
from app.dashboards.targets import DEFAULT_TARGETS, Targets

TARGET_LABELS = {
    "members": _l("Member ratio"),
    "activities": _l("An activity every quarter"),
    "checklist": _l("七有 qualified"),
    "dues": _l("Dues collection"),
    # Oversight (app/oversight): a rectification task past its deadline and not closed.
    "rectification": _l("No overdue rectification task"),
}


def target_labels(targets: Targets = DEFAULT_TARGETS) -> dict[str, str]:
    """The targets' names with the figures in force ("Member ratio ≥ 10%")."""
    labels = {key: str(label) for key, label in TARGET_LABELS.items()}
    labels["members"] = _("Member ratio ≥ %(target)s", target=target_text(targets.member_ratio))
    labels["activities"] = _(
        "Activities: %(per_quarter)d a quarter, %(per_year)d a year",
        per_quarter=targets.activities_per_quarter,
        per_year=targets.activities_per_year,
    )
    labels["dues"] = _("Dues collection ≥ %(target)s", target=target_text(targets.collection_rate))
    return labels


CHECKLIST_LABELS = {
    "qualified": _l("Qualified"),
    "submitted": _l("Submitted"),
    "returned": _l("Sent back"),
    "not_started": _l("Not started"),
}

FLAG_LABELS = {
    "green": _l("on target"),
    "amber": _l("close to target"),
    "red": _l("behind target"),
    "none": _l("no data"),
}

RATIO_BAND_LABELS = (
    _l("under 5%"),
    _l("5–8%"),
    _l("8–10%"),
    _l("10–15%"),
    _l("15% and more"),
    _l("population unknown"),
)

# Sortable columns of the children table: key → how to read it off a ChildRow's figures.
SORT_KEYS = {
    "name": lambda row: row.association.name,
    "members": lambda row: row.figures.members,
    "ratio": lambda row: row.figures.member_ratio,
    "activities": lambda row: row.figures.activities,
    "gaps": lambda row: row.figures.quarter_gaps,
    "qualified": lambda row: row.figures.qualified,
    "coverage": lambda row: row.figures.linkage_coverage,
    "collection": lambda row: row.figures.collection_rate,
    "hours": lambda row: row.figures.volunteer_hours,
    "overdue": lambda row: row.figures.overdue_rectifications,
}
