"""The dashboard of an association's subtree: figures, children (drill-down), charts, the
problems list, the .xlsx export and the printable yearly report.

Drilling down is opening a descendant's own dashboard: the resolver already answers 404 for
anything outside what the viewer may read, so a county auditor never reaches a sibling county
or the province above. Only aggregates are shown here; people's records stay in the registers.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit
from app.core.clock import china_today
from app.core.pagination import Page, paginate_by_key, paginate_rows
from app.core.views import can_read_registers, private_download, render
from app.dashboards import (
    definitions,
    exporting,
    manual,
    marks,
    periods,
    reading,
    refresh,
    rollup,
)
from app.dashboards.labels import (
    CHECKLIST_LABELS,
    FLAG_LABELS,
    RATIO_BAND_LABELS,
    SORT_KEYS,
    TARGET_LABELS,
    missed_labels,
    target_labels,
)
from app.dashboards.targets import (
    Targets,
    targets_in_force,
)
from app.extensions import db
from tenants.context import subtree_reads
from tenants.models import Association, AssociationKind

PER_PAGE = 25
PATH_SHAPE = re.compile(r"(/[0-9]{1,12}){1,20}/")


def _years() -> list[int]:
    return list(reversed(definitions.dashboard_years()))


def _chosen_year() -> int:
    raw = request.args.get("year", "")
    if not raw:
        return china_today().year
    year = int(raw) if raw.isdigit() else None
    if year not in _years():
        flash(_("There are no figures for that year; showing this year."), "warning")
        return china_today().year
    return year


def _breadcrumb() -> list[Association]:
    """From the highest association the viewer may read down to this one (one query)."""
    access = g.access
    top = access.oversight_from if access.oversight_from is not None else access.association
    ids = g.association.ancestor_ids
    ids = ids[ids.index(top.id) :] if top.id in ids else [g.association.id]
    return list(
        db.session.scalars(
            select(Association).where(Association.id.in_(ids)).order_by(Association.depth)
        )
    )


def _sorted_children(children: list, key: str, direction: str) -> list:
    read = SORT_KEYS[key]
    present = [row for row in children if read(row) is not None]
    missing = [row for row in children if read(row) is None]
    present.sort(key=read, reverse=direction == "desc")
    return present + missing


def _targets(year: int, association: Association | None = None) -> Targets:
    """The targets in force at the page's association: they colour every figure on it."""
    return targets_in_force(association or g.association, year)


def _chart_data(year: int, total: rollup.Figures, children: list, targets: Targets) -> dict:
    return {
        "year": year,
        "quarters": {
            "labels": [_("Q%(n)d", n=q) for q in range(1, 5)],
            "values": total.quarters,
            "name": _("Activities"),
        },
        "ratio": {
            "labels": [str(label) for label in RATIO_BAND_LABELS],
            "values": total.ratio_bands,
            "name": _("Grassroots associations"),
        },
        "collection": {
            "labels": [row.association.name for row in children],
            "values": [
                None
                if row.figures.collection_rate is None
                else float(definitions.percent(row.figures.collection_rate))
                for row in children
            ],
            "name": _("Collection rate (%)"),
            "target": float(definitions.percent(targets.collection_rate)),
        }
        if total.dues_expected_fen is not None
        else None,
    }


def _period(year: int) -> reading.Period:
    """The period the page shows (reading.period_shown): ?quarter=N a closed quarter, ?quarter=0
    the live figures, a past year whose Q4 is closed its frozen figures."""
    return reading.period_shown(year, request.args.get("quarter", type=int))


def _read(year: int):
    """(dashboard, closed period or None, closed quarters of the year, period) of the page: the
    frozen figures of a closed period, the live ones otherwise. Run inside subtree_reads()."""
    closed_quarters = periods.closed_quarters(year)
    period = reading.period_shown(
        year, request.args.get("quarter", type=int), closed=closed_quarters
    )
    if period.frozen:
        closed = periods.read_period(g.association, year, period.quarter)
        if closed is not None:
            return closed.dashboard, closed, closed_quarters, period
    return rollup.read_dashboard(g.association, year), None, closed_quarters, period


def _amendments(closed, total: rollup.Figures) -> list[tuple[str, str, str]]:
    """(figure, frozen, amended) for each figure a later change altered."""
    if closed is None or closed.amended is None:
        return []
    amended = closed.amended
    shown = [
        (_("Members"), lambda f: f"{f.members:,}"),
        (_("New members recruited"), lambda f: f"{f.new_members:,}"),
        (_("Member ratio"), lambda f: definitions.percent_text(f.member_ratio)),
        (_("Activities"), lambda f: f"{f.activities:,}"),
        (_("Associations that held 5·29"), lambda f: f"{f.member_day_held:,}"),
        (_("Linkage coverage"), lambda f: definitions.percent_text(f.linkage_coverage)),
        (_("Dues collection"), lambda f: definitions.percent_text(f.collection_rate)),
    ]
    return [
        (label, read(total), read(amended)) for label, read in shown if read(total) != read(amended)
    ]


@can_read_registers
def index():
    year = _chosen_year()
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORT_KEYS else "name"
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    with subtree_reads():  # every read in one scope: one row-level-security round trip
        dashboard, closed, closed_quarters, _shown = _read(year)
        targets = _targets(year)
        breadcrumb = _breadcrumb()
    total, as_of = dashboard.total, dashboard.as_of
    children = _sorted_children(dashboard.children, sort, direction)
    return render(
        "dashboards/index.html",
        fragment="dashboards/_children.html",
        year=year,
        years=_years(),
        total=total,
        flags=total.flags(targets),
        targets=targets,
        children=children,
        breadcrumb=breadcrumb,
        as_of=as_of,
        sort=sort,
        direction=direction,
        charts=_chart_data(year, total, children, targets),
        labels=_labels(targets),
        closed=closed,
        closed_quarters=sorted(closed_quarters),
        amendments=_amendments(closed, total),
    )


# The late-reports tile counts rows of its own: it loads after the dashboard (htmx), so the
# figures do not wait for it.


@can_read_registers
def late_reports_tile():
    return render("reports/_tile.html", year=_chosen_year())


def _labels(targets: Targets) -> dict:
    # Translated once per page, not once per cell: a province's children table would otherwise
    # look each label up in the catalogue a few hundred times.
    def translated(labels: dict) -> dict:
        return {key: str(label) for key, label in labels.items()}

    return {
        "targets": target_labels(targets),
        "missed": missed_labels(targets),
        "checklist": translated(CHECKLIST_LABELS),
        "flags": translated(FLAG_LABELS),
        "bands": [str(label) for label in RATIO_BAND_LABELS],
    }


def _problem_filters() -> tuple[str, str]:
    kind = request.args.get("kind", "")
    target = request.args.get("target", "")
    if kind not in {k.value for k in AssociationKind} and kind:
        flash(_("Unknown kind of association; showing all kinds."), "warning")
        kind = ""
    if target not in TARGET_LABELS and target:
        flash(_("Unknown target; showing every target."), "warning")
        target = ""
    return kind, target


def _path_arg(name: str) -> str | None:
    """A materialised path from the query string ("/1/5/23/"), or None if absent or not one."""
    value = request.args.get(name, "")
    return value if PATH_SHAPE.fullmatch(value) else None


@can_read_registers
def problems():
    year = _chosen_year()
    kind, target = _problem_filters()
    page_number = request.args.get("page", 1, type=int)
    with subtree_reads():
        rollup.prefer_custom_plans()
        targets = _targets(year)
        period = _period(year)
        src, query = reading.problems_query(
            g.association, period, targets, kind=kind, target=target
        )
        # By path from one page to the next: a province's page 1,068 would otherwise walk the
        # 26,700 rows before it (193 ms against page 1's 114 ms at national scale).
        page = paginate_by_key(
            query,
            src.path,
            page=page_number,
            per_page=PER_PAGE,
            after=_path_arg("after"),
            before=_path_arg("before"),
        )
        rows = reading.rows_of(page.items, src, targets)
    page = Page(items=rows, page=page.page, per_page=page.per_page, total=page.total)
    return render(
        "dashboards/problems.html",
        fragment="dashboards/_problems.html",
        year=year,
        period=period,
        quarter=request.args.get("quarter", type=int),
        targets=targets,
        years=_years(),
        kind=kind,
        target=target,
        page=page,
        breadcrumb=_breadcrumb(),
        kinds=[k for k in AssociationKind if k.level > g.association.level],
        labels=_labels(targets),
    )


@can_read_registers
def export():
    year = _chosen_year()
    with subtree_reads():
        rollup.prefer_custom_plans()
        dashboard, _closed, _closed_quarters, period = _read(year)
        targets = _targets(year)
        src, query = reading.problems_query(g.association, period, targets)
        problems = reading.rows_of(db.session.execute(query), src, targets)
        sheet_rows = reading.association_rows(g.association, period, targets)
        found = marks.read_marks(year)
    data = exporting.dashboard_workbook(
        g.association,
        year,
        dashboard.total,
        dashboard.children,
        problems,
        targets,
        sheet_rows,
        found,
    )
    audit.record("export", association_id=g.association.id, what="dashboard", year=year)
    filename = f"dashboard-{g.association.slug}-{year}.xlsx"
    return private_download(data, filename)


@can_read_registers
def report():
    year = _chosen_year()
    with subtree_reads():
        dashboard, closed, _closed_quarters, _shown = _read(year)
    total, children, as_of = dashboard.total, dashboard.children, dashboard.as_of
    targets = _targets(year)
    audit.record("print_report", association_id=g.association.id, what="dashboard", year=year)
    return render(
        "dashboards/report.html",
        year=year,
        total=total,
        flags=total.flags(targets),
        targets=targets,
        children=children,
        as_of=as_of,
        groups=exporting.figure_groups(total, targets),
        closed=closed,
        amendments=_amendments(closed, total),
        generated_on=china_today(),
        labels=_labels(targets),
    )


@can_read_registers
def refresh_now():
    year = _chosen_year()
    refresh.refresh_subtree_job(g.association.id, year)
    flash(_("The figures are being recomputed; reload the page in a moment."), "success")
    return redirect(url_for("dashboards.index", year=year), 303)


@dataclass(frozen=True)
class HomeFigures:
    year: int
    figures: rollup.Figures
    targets: Targets
    as_of: datetime | None

    @property
    def members_needed(self) -> int:
        return definitions.members_needed(
            self.figures.ratio_members, self.figures.population, self.targets.member_ratio
        )


def home_figures(association: Association) -> HomeFigures:
    """This year's figures of the association's subtree, read as its dashboard reads them
    (called from the home page template, in the association's scope)."""
    year = china_today().year
    with subtree_reads():
        figures, as_of = rollup.read_total(association, year)
    return HomeFigures(year=year, figures=figures, targets=_targets(year, association), as_of=as_of)


def activity_progress_for(year: int, quarters: list[int]) -> definitions.ActivityProgress:
    """The current association's activity requirement for `year` as of today, against the
    targets in force (the activities page shows it with the dashboard's words)."""
    return definitions.activity_progress(quarters, year, china_today(), _targets(year))


# --- the subtree sheet as a page -----------------------------------------------------------------


@can_read_registers
def associations():
    """Every grassroots association of the subtree with its figures: filter by kind, name and
    missed target, sort by a column, a page at a time (three queries whatever the size)."""
    year = _chosen_year()
    kind, target = _problem_filters()
    search = request.args.get("q", "").strip()[:40]
    sort = request.args.get("sort", "path")
    sort = sort if sort in reading.SORTS else "path"
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    with subtree_reads():
        rollup.prefer_custom_plans()
        targets = _targets(year)
        period = _period(year)
        src, query = reading.sheet_query(
            g.association,
            period,
            targets,
            kind=kind,
            search=search,
            target=target,
            sort=sort,
            direction=direction,
        )
        page = paginate_rows(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE)
        rows = reading.rows_of(page.items, src, targets)
        found = marks.read_marks(year)
    page = Page(items=rows, page=page.page, per_page=page.per_page, total=page.total)
    return render(
        "dashboards/associations.html",
        fragment="dashboards/_associations.html",
        year=year,
        period=period,
        quarter=request.args.get("quarter", type=int),
        years=_years(),
        kind=kind,
        target=target,
        search=search,
        sort=sort,
        direction=direction,
        page=page,
        targets=targets,
        breadcrumb=_breadcrumb(),
        kinds=[k for k in AssociationKind if k.is_grassroots],
        labels=_labels(targets),
        manual_targets=manual.manual_targets(targets),
        marks=found,
    )
