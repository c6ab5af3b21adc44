"""The dashboard as an .xlsx workbook: one sheet per figure group (the subtree's total, then
each direct child), and the problems list. Headers are in Chinese whatever the screen language:
the file goes to the authorities."""

import io
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.core.labels import KIND_LABELS
from app.core.money import yuan_number
from app.core.spreadsheets import safe_cell
from app.dashboards import manual
from app.dashboards.definitions import spreadsheet_share
from app.dashboards.labels import ACTIVITY_STATUS_LABELS, CHECKLIST_LABELS, target_labels
from app.dashboards.marks import KINDS as MARK_KINDS
from app.dashboards.marks import NO_MARKS, Marks
from app.dashboards.rollup import Figures
from app.dashboards.targets import DEFAULT_TARGETS, Targets


@dataclass(frozen=True)
class Column:
    header: Callable[[], str]
    value: Callable[[Figures], object]
    percent: bool = False


_percent = spreadsheet_share


def figure_groups(
    total: Figures, targets: Targets = DEFAULT_TARGETS
) -> list[tuple[str, list[Column]]]:
    """(sheet title, columns) of each figure group that exists (its module installed)."""
    groups = [
        (
            _("Members"),
            [
                Column(lambda: _("Number of members"), lambda f: f.members),
                Column(lambda: _("Population served"), lambda f: f.population),
                Column(lambda: _("Member ratio"), lambda f: _percent(f.member_ratio), True),
                Column(lambda: _("New members recruited"), lambda f: f.new_members),
            ],
        ),
        (
            _("Activities"),
            [
                *(
                    Column(lambda q=q: _("Q%(n)d", n=q), lambda f, q=q: f.quarters[q - 1])
                    for q in range(1, 5)
                ),
                Column(lambda: _("Activities in the year"), lambda f: f.activities),
                Column(lambda: _("Associations with a quarter missing"), lambda f: f.quarter_gaps),
                Column(lambda: _("Associations that held 5·29"), lambda f: f.member_day_held),
                *(
                    Column(
                        lambda label=label: str(label),
                        lambda f, s=status: f.activity_counts(targets)[s],
                    )
                    for status, label in ACTIVITY_STATUS_LABELS.items()
                ),
            ],
        ),
        (
            _("七有"),
            [
                Column(lambda label=label: str(label), lambda f, s=s: f.checklist.get(s, 0))
                for s, label in CHECKLIST_LABELS.items()
            ],
        ),
        (
            _("Linkage"),
            [
                Column(lambda: _("Number of households"), lambda f: f.households),
                Column(lambda: _("Households covered"), lambda f: f.covered_households),
                Column(lambda: _("Linkage coverage"), lambda f: _percent(f.linkage_coverage), True),
            ],
        ),
    ]
    groups.append(
        (
            _("Self-governance"),
            [
                Column(lambda: _("Associations"), lambda f: f.associations),
                Column(lambda: _("Plans published"), lambda f: f.plans_published),
                Column(lambda: _("Reports published"), lambda f: f.reports_published),
                Column(lambda: _("Evaluation responses"), lambda f: f.survey_responses),
                Column(lambda: _("Satisfied responses"), lambda f: f.satisfied_responses),
                Column(lambda: _("Satisfaction"), lambda f: _percent(f.satisfaction), True),
            ],
        )
    )
    if total.dues_expected_fen is not None:
        groups.append(
            (
                _("Dues"),
                [
                    Column(
                        lambda: _("Dues due (yuan)"), lambda f: yuan_number(f.dues_expected_fen)
                    ),
                    Column(
                        lambda: _("Dues collected (yuan)"),
                        lambda f: yuan_number(f.dues_collected_fen),
                    ),
                    Column(
                        lambda: _("Collection rate"), lambda f: _percent(f.collection_rate), True
                    ),
                ],
            )
        )
    if total.volunteer_minutes is not None:
        groups.append(
            (
                _("Volunteers"),
                [Column(lambda: _("Volunteer hours"), lambda f: round(f.volunteer_hours or 0, 1))],
            )
        )
    if total.overdue_rectifications is not None:
        groups.append(
            (
                _("Rectification"),
                [
                    Column(
                        lambda: _("Overdue rectification tasks"),
                        lambda f: f.overdue_rectifications or 0,
                    )
                ],
            )
        )
    return groups


def dashboard_workbook(
    association,
    year: int,
    total: Figures,
    children,
    problems,
    targets: Targets = DEFAULT_TARGETS,
    sheet_rows=(),
    marks: Marks = NO_MARKS,
) -> bytes:
    """`children`: ChildRows; `problems`: an AssociationRow per association of the subtree
    behind on a target, `sheet_rows` one per grassroots association of the subtree
    (app/dashboards/reading.py: the period's figures, frozen if it is closed); `marks`: the
    year's marks in the subtree (model associations), counted on the first sheet for the
    total and each child, and named on the grassroots sheet."""
    with force_locale("zh_Hans_CN"):
        labels = target_labels(targets)
        workbook = Workbook()
        workbook.remove(workbook.active)
        counted = [] if not marks.found else list(MARK_KINDS.values())
        for number, (title, columns) in enumerate(figure_groups(total, targets)):
            counts = counted if number == 0 else []
            sheet = workbook.create_sheet(title)
            sheet.append(
                [
                    _("Association"),
                    _("Kind"),
                    *(c.header() for c in columns),
                    *(str(kind.label) for kind in counts),
                ]
            )
            rows = [
                (
                    _("%(name)s (whole subtree)", name=association.name),
                    association.kind,
                    association.path,
                    total,
                )
            ]
            rows += [
                (r.association.name, r.association.kind, r.association.path, r.figures)
                for r in children
            ]
            for name, kind, path, figures in rows:
                sheet.append(
                    [
                        safe_cell(name),
                        str(KIND_LABELS[kind]),
                        *(c.value(figures) for c in columns),
                        *(marks.count_below(mark.key, path) for mark in counts),
                    ]
                )
            for index, column in enumerate(columns, start=3):
                if column.percent:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        cell.number_format = "0.0%"
            _style(sheet)
        sheet = workbook.create_sheet(_("Problems list"))
        sheet.append([_("Association"), _("Kind"), _("Under"), _("Targets missed")])
        for problem in problems:
            sheet.append(
                [
                    safe_cell(problem.association.name),
                    str(KIND_LABELS[problem.association.kind]),
                    safe_cell(problem.parent_name or ""),
                    _missed_names(problem, labels, targets),
                ]
            )
        _style(sheet)
        _subtree_sheet(workbook, sheet_rows, targets, marks)
        workbook.properties.title = _(
            "%(name)s dashboard %(year)d", name=association.name, year=year
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _missed_names(row, labels: dict, targets: Targets) -> str:
    """The targets a row misses, those measured by hand by name ("群众满意率 ≥ 95%")."""
    by_hand = {t.key: f"{t.label} {t.target_text}" for t in manual.manual_targets(targets)}
    names = []
    for key in row.missed:
        if key == "manual":
            names += [by_hand[target.key] for target in row.manual_missed]
        else:
            names.append(labels[key])
    return "、".join(names)


def _met_words() -> dict:
    """ "met or not" in the request's language, looked up once per sheet (not once per cell: a
    county of 2,000 associations made 14,000 lookups)."""
    return {None: "", True: _("yes"), False: _("no")}


def _subtree_sheet(workbook, rows, targets: Targets, marks: Marks) -> None:
    """One row per grassroots association: its path, its marks (a model association), every
    figure, each target met or not."""
    sheet = workbook.create_sheet(_("Grassroots associations"))
    by_hand = manual.manual_targets(targets)
    statuses = {key: str(label) for key, label in ACTIVITY_STATUS_LABELS.items()}
    sheet.append(
        [
            _("County"),
            _("Township"),
            _("Association"),
            _("Kind"),
            _("Titles of honour"),
            _("Number of members"),
            _("New members recruited"),
            _("Population served"),
            _("Member ratio"),
            _("Member ratio met"),
            *(_("Q%(n)d", n=q) for q in range(1, 5)),
            _("Activities in the year"),
            _("Activity requirement"),
            _("5·29 member day held"),
            _("七有"),
            _("Number of households"),
            _("Households covered"),
            _("Linkage coverage"),
            _("Linkage coverage met"),
            _("Dues due (yuan)"),
            _("Dues collected (yuan)"),
            _("Collection rate"),
            _("Collection rate met"),
            _("Volunteer hours"),
            _("Overdue rectification tasks"),
            _("Plan published"),
            _("Report published"),
            _("Evaluation responses"),
            _("Satisfied responses"),
            _("Targets missed"),
            *(
                heading
                for target in by_hand
                for heading in (
                    safe_cell(f"{target.label} ({target.unit})" if target.unit else target.label),
                    safe_cell(_("%(target)s met", target=target.label)),
                )
            ),
        ]
    )
    labels = target_labels(targets)
    checklist = {key: str(label) for key, label in CHECKLIST_LABELS.items()}
    met = _met_words()
    not_entered = _("not entered")
    for row in rows:
        f = row.figures
        status = next((s for s, count in f.checklist.items() if count), "not_started")
        sheet.append(
            [
                safe_cell(row.county),
                safe_cell(row.township),
                safe_cell(row.association.name),
                str(KIND_LABELS[row.association.kind]),
                marks.text(row.association.id) or None,
                f.members,
                f.new_members,
                f.population or None,
                _percent(f.member_ratio),
                met[row.meets("members")],
                *f.quarters,
                f.activities,
                statuses[row.activity.status] if row.activity else "",
                met[bool(f.member_day_held)],
                checklist[status],
                f.households,
                f.covered_households,
                _percent(f.linkage_coverage),
                met[row.meets("linkage")],
                yuan_number(f.dues_expected_fen),
                yuan_number(f.dues_collected_fen),
                _percent(f.collection_rate),
                met[row.meets("dues")],
                None if f.volunteer_minutes is None else round(f.volunteer_minutes / 60, 1),
                f.overdue_rectifications,
                met[bool(f.plans_published)],
                met[bool(f.reports_published)],
                f.survey_responses,
                f.satisfied_responses,
                _missed_names(row, labels, targets),
                *(
                    cell
                    for target in by_hand
                    for cell in _manual_cells(row.manual.get(target.key), met, not_entered)
                ),
            ]
        )
    first = sheet.max_column - 2 * len(by_hand) + 1  # the first column entered by hand
    shares = [first + 2 * index for index, target in enumerate(by_hand) if target.is_share]
    for column in (9, 21, 25, *shares):  # the member ratio, linkage coverage, collection rate
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = "0.0%"
    _style(sheet)
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 28


def _manual_cells(value, met: dict, not_entered: str) -> tuple:
    """A value entered by hand (a share as a number formatted in per cent) and met or not;
    "not entered" when there is none."""
    if value is None or value.value is None:
        return (not_entered, "")
    shown = value.value
    shown = _percent(shown / 100) if value.target.is_share else float(shown)
    return (shown, met[value.met])


def _style(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 28
