"""Translated names of the dashboards' targets, 七有 statuses and flags."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.dashboards.definitions import (
    AT_RISK,
    MET,
    MISSED,
    ON_TRACK,
    ActivityProgress,
    target_text,
)
from app.dashboards.targets import DEFAULT_TARGETS, Targets

TARGET_LABELS = {
    "members": _l("Member ratio"),
    "activities": _l("An activity every quarter"),
    "checklist": _l("七有 qualified"),
    "dues": _l("Dues collection"),
    # Oversight (app/oversight): a rectification task past its deadline and not closed.
    "rectification": _l("No overdue rectification task"),
    # Values entered by hand (app/dashboards/manual.py): 满意率, 自治开展面, 知晓率, own ones.
    "manual": _l("Values entered by hand"),
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


def missed_labels(targets: Targets = DEFAULT_TARGETS) -> dict[str, str]:
    """What a red problem chip says: the failure, not the target ("七有 not qualified", where
    the target's own name, "七有 qualified", read as praise on a failing association)."""
    return {
        "members": _("Member ratio below %(target)s", target=target_text(targets.member_ratio)),
        "activities": _(
            "Fewer activities than %(per_quarter)d a quarter, %(per_year)d a year",
            per_quarter=targets.activities_per_quarter,
            per_year=targets.activities_per_year,
        ),
        "checklist": _("七有 not qualified"),
        "dues": _("Dues collection below %(target)s", target=target_text(targets.collection_rate)),
        "rectification": _("A rectification task is overdue"),
        "manual": _("Below target (entered by hand)"),
    }


# The activity requirement's status words: the same on the activities page, the dashboard,
# the report, the export, the problems list and the subtree sheet.
ACTIVITY_STATUS_LABELS = {
    MET: _l("Met"),
    ON_TRACK: _l("On track"),
    AT_RISK: _l("At risk"),
    MISSED: _l("Missed"),
}
ACTIVITY_STATUS_FLAGS = {MET: "green", ON_TRACK: "green", AT_RISK: "amber", MISSED: "red"}


def progress_text(progress: ActivityProgress) -> str:
    """One sentence on where the year's activities stand ("Q4: no activity yet, 31 days
    left")."""
    if progress.status == MISSED:
        if progress.short_quarters:
            return _(
                "%(quarters)s fell short (%(per_quarter)d a quarter required): this year's "
                "requirement can no longer be met.",
                quarters="、".join(_("Q%(n)d", n=q) for q in progress.short_quarters),
                per_quarter=progress.per_quarter,
            )
        return _(
            "%(count)d activities this year, at least %(target)d required.",
            count=progress.total,
            target=progress.per_year,
        )
    if progress.status == MET:
        return _("%(count)d activities this year, every quarter covered.", count=progress.total)
    current = progress.current
    held = progress.quarters[current - 1]
    if held < progress.per_quarter:
        if held == 0:
            return _(
                "Q%(q)d: no activity yet, %(days)d days left.", q=current, days=progress.days_left
            )
        return _(
            "Q%(q)d: %(count)d of %(target)d activities, %(days)d days left.",
            q=current,
            count=held,
            target=progress.per_quarter,
            days=progress.days_left,
        )
    if progress.ended < 3:
        return _(
            "Q%(q)d covered; %(count)d of %(target)d activities this year so far.",
            q=current,
            count=progress.total,
            target=progress.per_year,
        )
    return _(
        "%(count)d of %(target)d activities this year, %(days)d days left.",
        count=progress.total,
        target=progress.per_year,
        days=progress.days_left,
    )


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
    "plans": lambda row: row.figures.plans_published,
    "reports": lambda row: row.figures.reports_published,
    "satisfaction": lambda row: row.figures.satisfaction,
}
