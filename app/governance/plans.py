"""The self-governance cycle's rules: drafting the yearly plan (承诺), recording its approval,
publishing it, noting progress (实施) and judging each commitment on track / behind / done.

A plan is a draft until published; publishing needs the approval by the members' meeting or
the committee (date, attendance, minutes) and at least one commitment. Once published, its
commitments and planned activities are fixed (what was promised to residents stays as it was
promised); progress notes are added to a published plan only.

How a commitment is judged (`judge`):
- done: the secretary marked it done in a dated note, or its value reached the target;
- behind: its due quarter is over and it is not done; before that, for a count (members,
  activities, volunteer hours, a measure entered by hand) when the value is below the target
  pro rata of the days from 1 January to the end of the due quarter; a share (member ratio,
  linkage coverage, collection rate) is not pro-rated, it is judged when due;
- on track: otherwise.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.activities.models import Activity
from app.core import uploads
from app.core.clock import utcnow
from app.core.dates import date_problem
from app.core.problems import Problem
from app.dashboards.definitions import percent, quarter_end
from app.dashboards.rollup import Figures, read_total
from app.extensions import db
from app.governance.models import (
    SHARE_MEASURES,
    ApprovingBody,
    Commitment,
    CommitmentUpdate,
    Measure,
    PlannedActivity,
    YearPlan,
)
from tenants.context import subtree_reads
from tenants.models import Association

ON_TRACK, BEHIND, DONE = "on_track", "behind", "done"
MAX_COMMITMENTS = 30
MAX_PLANNED_ACTIVITIES = 60

MEASURE_LABELS = {
    Measure.MEMBERS: _l("Members (from the register)"),
    Measure.ACTIVITIES: _l("Activities this year (from the activity log)"),
    Measure.MEMBER_RATIO: _l("Member ratio, % (from the dashboard)"),
    Measure.LINKAGE_COVERAGE: _l("Linkage coverage, % (from the dashboard)"),
    Measure.COLLECTION_RATE: _l("Dues collection rate, % (from the dashboard)"),
    Measure.VOLUNTEER_HOURS: _l("Volunteer hours (from the rosters)"),
    Measure.MANUAL: _l("Entered by hand in progress notes"),
}
STATE_LABELS = {ON_TRACK: _l("On track"), BEHIND: _l("Behind"), DONE: _l("Done")}
BODY_LABELS = {
    ApprovingBody.MEMBERS_MEETING: _l("Members' meeting"),
    ApprovingBody.COMMITTEE: _l("Committee"),
}


class GovernanceError(Problem):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422, field: str | None = None):
        super().__init__(message, field, status=status)


# --- reading ----------------------------------------------------------------------------------


def plan_for(year: int) -> YearPlan | None:
    """The current association's plan for the year, with everything its page shows."""
    return db.session.scalar(
        select(YearPlan)
        .where(YearPlan.year == year)
        .options(
            selectinload(YearPlan.commitments).selectinload(Commitment.updates),
            selectinload(YearPlan.planned_activities),
            selectinload(YearPlan.minutes),
        )
        # A plan already in the session (created by ensure_plan) gets its collections too.
        .execution_options(populate_existing=True)
    )


def latest_published_year() -> int | None:
    return db.session.scalar(
        select(func.max(YearPlan.year)).where(YearPlan.published_at.is_not(None))
    )


def published_years() -> list[int]:
    return list(
        db.session.scalars(
            select(YearPlan.year)
            .where(YearPlan.published_at.is_not(None))
            .order_by(YearPlan.year.desc())
        )
    )


def year_figures(association: Association, year: int) -> Figures:
    """The association's figures for the year as its dashboard shows them (its subtree's)."""
    with subtree_reads():
        figures, _as_of = read_total(association, year)
    return figures


@dataclass(frozen=True)
class Progress:
    commitment: Commitment
    state: str
    value: int | Decimal | None  # where the commitment stands now (per cent for shares)
    expected: int | None  # the pro-rata value for today, for counts before they are due
    latest: CommitmentUpdate | None

    @property
    def label(self):
        return STATE_LABELS[self.state]


def measured_value(commitment: Commitment, figures: Figures) -> int | Decimal | None:
    """The commitment's value now: from its figure, or the latest value noted by hand."""
    match commitment.measure:
        case Measure.MEMBERS:
            return figures.members
        case Measure.ACTIVITIES:
            return figures.activities
        case Measure.MEMBER_RATIO:
            return percent(figures.member_ratio)
        case Measure.LINKAGE_COVERAGE:
            return percent(figures.linkage_coverage)
        case Measure.COLLECTION_RATE:
            return percent(figures.collection_rate)
        case Measure.VOLUNTEER_HOURS:
            hours = figures.volunteer_hours
            return None if hours is None else int(hours)
    noted = [u.value for u in commitment.updates if u.value is not None]
    return noted[-1] if noted else None


def judge(commitment: Commitment, year: int, value, today: date) -> tuple[str, int | None]:
    """On track / behind / done (see the module's docstring), and the pro-rata value due today."""
    if any(update.done for update in commitment.updates):
        return DONE, None
    if value is not None and value >= commitment.target:
        return DONE, None
    due = quarter_end(year, commitment.due_quarter)
    if today > due:
        return BEHIND, None
    if commitment.measure in SHARE_MEASURES:
        return ON_TRACK, None
    start = date(year, 1, 1)
    elapsed = max(0, (today - start).days + 1)
    span = (due - start).days + 1
    expected = commitment.target * elapsed // span
    return (BEHIND if (value or 0) < expected else ON_TRACK), expected


def progress(plan: YearPlan, figures: Figures, today: date) -> list[Progress]:
    rows = []
    for commitment in plan.commitments:
        value = measured_value(commitment, figures)
        state, expected = judge(commitment, plan.year, value, today)
        latest = commitment.updates[-1] if commitment.updates else None
        rows.append(Progress(commitment, state, value, expected, latest))
    return rows


def year_activities(year: int) -> list[tuple[str, date]]:
    """The titles and dates of the association's activities of the year (nothing else)."""
    return list(
        db.session.execute(
            select(Activity.title, Activity.held_on)
            .where(Activity.held_on >= date(year, 1, 1), Activity.held_on <= date(year, 12, 31))
            .order_by(Activity.held_on, Activity.id)
        ).all()
    )


def year_activity_choices(year: int) -> list[tuple[int, str, date]]:
    """The year's activities a planned activity can be linked to (id, title, date)."""
    return list(
        db.session.execute(
            select(Activity.id, Activity.title, Activity.held_on)
            .where(Activity.held_on >= date(year, 1, 1), Activity.held_on <= date(year, 12, 31))
            .order_by(Activity.held_on, Activity.id)
        ).all()
    )


# --- drafting ---------------------------------------------------------------------------------


def _check_draft(plan: YearPlan) -> None:
    if plan.is_published:
        raise GovernanceError(
            _l("The plan is published: its commitments and activities can no longer change."),
            status=409,
        )


def ensure_plan(year: int) -> YearPlan:
    """The plan of the year, created as an empty draft the first time it is written."""
    plan = db.session.scalar(select(YearPlan).where(YearPlan.year == year))
    if plan is None:
        plan = YearPlan(year=year, summary="")
        db.session.add(plan)
        db.session.flush()
    return plan


def save_plan(year: int, *, summary: str, show_activities: bool, show_dues: bool) -> YearPlan:
    """The plan's introduction and what the public page shows (these may change after
    publication: they are presentation, not promises)."""
    plan = ensure_plan(year)
    if plan.is_published and summary.strip() != plan.summary:
        raise GovernanceError(
            _l("The plan is published: its introduction can no longer change."), status=409
        )
    plan.summary = summary.strip()
    plan.show_activities = show_activities
    plan.show_dues = show_dues
    db.session.flush()
    return plan


@dataclass(frozen=True)
class CommitmentInput:
    text: str
    measure: Measure
    target: int
    due_quarter: int
    unit: str = ""


def add_commitment(year: int, data: CommitmentInput) -> Commitment:
    plan = ensure_plan(year)
    _check_draft(plan)
    if data.measure in SHARE_MEASURES and data.target > 100:
        raise GovernanceError(_l("A percentage target is at most 100."), field="target")
    count = db.session.scalar(
        select(func.count()).select_from(Commitment).where(Commitment.plan_id == plan.id)
    )
    if count >= MAX_COMMITMENTS:
        raise GovernanceError(_l("A plan holds at most %(n)d commitments.", n=MAX_COMMITMENTS))
    position = db.session.scalar(
        select(func.coalesce(func.max(Commitment.position), 0)).where(Commitment.plan_id == plan.id)
    )
    commitment = Commitment(
        plan_id=plan.id,
        position=position + 1,
        text=data.text.strip(),
        measure=data.measure,
        unit=data.unit.strip() if data.measure == Measure.MANUAL else "",
        target=data.target,
        due_quarter=data.due_quarter,
    )
    db.session.add(commitment)
    db.session.flush()
    return commitment


def remove_commitment(commitment: Commitment) -> None:
    plan = db.session.get(YearPlan, commitment.plan_id)
    _check_draft(plan)
    db.session.delete(commitment)
    db.session.flush()


def add_planned_activity(year: int, *, month: int, title: str) -> PlannedActivity:
    plan = ensure_plan(year)
    _check_draft(plan)
    count = db.session.scalar(
        select(func.count()).select_from(PlannedActivity).where(PlannedActivity.plan_id == plan.id)
    )
    if count >= MAX_PLANNED_ACTIVITIES:
        raise GovernanceError(
            _l("A plan holds at most %(n)d planned activities.", n=MAX_PLANNED_ACTIVITIES)
        )
    planned = PlannedActivity(plan_id=plan.id, month=month, title=title.strip())
    db.session.add(planned)
    db.session.flush()
    return planned


def remove_planned_activity(planned: PlannedActivity) -> None:
    _check_draft(db.session.get(YearPlan, planned.plan_id))
    db.session.delete(planned)
    db.session.flush()


def link_planned_activity(planned: PlannedActivity, activity_id: int | None) -> None:
    """Name the activity of the log that fulfilled a planned one (None: no longer linked)."""
    if activity_id is not None:
        year = db.session.scalar(select(YearPlan.year).where(YearPlan.id == planned.plan_id))
        held_on = db.session.scalar(select(Activity.held_on).where(Activity.id == activity_id))
        if held_on is None:
            raise GovernanceError(_l("There is no such activity."), status=404)
        if held_on.year != year:
            raise GovernanceError(_l("Choose an activity held in the plan's year."))
    planned.activity_id = activity_id
    db.session.flush()


def fulfilling_activities(plan: YearPlan) -> dict[int, tuple[int, str, date]]:
    """Planned activity id → (activity id, title, date) of the activity that fulfilled it."""
    linked = {p.activity_id: p.id for p in plan.planned_activities if p.activity_id}
    rows = db.session.execute(
        select(Activity.id, Activity.title, Activity.held_on).where(Activity.id.in_(linked))
    ).all()
    return {linked[row.id]: (row.id, row.title, row.held_on) for row in rows}


# --- approval and publication -----------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalInput:
    approved_on: date
    approved_by: ApprovingBody
    attendance: int


def record_approval(
    year: int, data: ApprovalInput, minutes, *, association_id: int, user_id: int | None
) -> YearPlan:
    """The approval by the members' meeting or the committee, with its minutes as a file.

    Checks everything before the file is stored, so a refused approval keeps no file."""
    plan = ensure_plan(year)
    _check_draft(plan)
    problem = date_problem(data.approved_on, not_future=True)
    if problem:
        raise GovernanceError(problem, field="approved_on")
    if data.approved_on.year not in (year - 1, year):
        raise GovernanceError(
            _l("The plan is approved in its year or at the end of the year before."),
            field="approved_on",
        )
    if data.attendance < 1:
        raise GovernanceError(_l("Say how many attended."), field="attendance")
    try:
        stored = uploads.store_upload(
            minutes, uploads.EVIDENCE, association_id=association_id, uploaded_by_id=user_id
        )
    except uploads.UploadRejected as rejected:
        raise GovernanceError(rejected.message, status=rejected.status, field="minutes") from None
    plan.approved_on = data.approved_on
    plan.approved_by = data.approved_by
    plan.attendance = data.attendance
    plan.minutes_file_id = stored.id
    db.session.flush()
    return plan


def publish(year: int, *, user_id: int | None) -> YearPlan:
    plan = plan_for(year)
    if plan is None or not plan.commitments:
        raise GovernanceError(_l("Add at least one commitment before publishing the plan."))
    _check_draft(plan)
    if not plan.is_approved:
        raise GovernanceError(
            _l("Record the approval by the members' meeting or the committee first.")
        )
    plan.published_at = utcnow()
    plan.published_by_id = user_id
    db.session.flush()
    return plan


# --- progress ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateInput:
    noted_on: date
    note: str
    value: int | None = None
    done: bool = False


def add_update(
    commitment: Commitment,
    data: UpdateInput,
    evidence=None,
    *,
    association_id: int,
    user_id: int | None,
) -> CommitmentUpdate:
    """A dated progress note, with a file as evidence when given."""
    plan = db.session.get(YearPlan, commitment.plan_id)
    if not plan.is_published:
        raise GovernanceError(_l("Progress is noted once the plan is published."), status=409)
    problem = date_problem(data.noted_on, not_future=True)
    if problem:
        raise GovernanceError(problem, field="noted_on")
    if data.value is not None and commitment.measure != Measure.MANUAL:
        raise GovernanceError(
            _l("This commitment is measured by its figure: leave the value empty."),
            field="value",
        )
    if not data.note.strip() and not data.done and data.value is None:
        raise GovernanceError(_l("Say what was done."), field="note")
    stored = None
    if evidence is not None:
        try:
            stored = uploads.store_upload(
                evidence, uploads.EVIDENCE, association_id=association_id, uploaded_by_id=user_id
            )
        except uploads.UploadRejected as rejected:
            raise GovernanceError(
                rejected.message, status=rejected.status, field="evidence"
            ) from None
    update = CommitmentUpdate(
        commitment_id=commitment.id,
        noted_on=data.noted_on,
        value=data.value,
        done=data.done,
        note=data.note.strip(),
        evidence_file_id=stored.id if stored else None,
        recorded_by_id=user_id,
    )
    db.session.add(update)
    db.session.flush()
    return update
