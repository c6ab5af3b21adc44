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

import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.activities.models import Activity
from app.core import crypto, uploads
from app.core.clock import china_today
from app.core.dates import date_problem
from app.core.models import utcnow
from app.core.notifications import notify_sms
from app.dashboards.definitions import percent, quarter_end, share
from app.dashboards.rollup import Figures, read_total
from app.extensions import db
from app.governance.models import (
    SHARE_MEASURES,
    ApprovingBody,
    CommentState,
    Commitment,
    CommitmentUpdate,
    Measure,
    PlannedActivity,
    SupervisionComment,
    Survey,
    SurveyCode,
    SurveyPhone,
    SurveyResponse,
    YearPlan,
    YearReport,
)
from app.members.idnumbers import validate_phone
from app.members.models import Household
from app.oversight.notices import _secretaries as secretaries
from app.oversight.notices import _send as send_to
from app.oversight.services import may_act_on as may_supervise  # oversight, no role in it
from tenants.access import access_for
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tenants.tree import subtree_filter

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


class GovernanceError(ValueError):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.status = status
        self.field = field


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


# --- supervision (监督) -----------------------------------------------------------------------


def comment_from_above(
    association: Association, year: int, body: str, *, author_id: int
) -> SupervisionComment:
    """The level above comments on the plan of a year: checked against the author's own
    oversight, then written in a writable scope of the association commented on only."""
    access = access_for(author_id, association)
    if not may_supervise(access):
        raise GovernanceError(
            _l("Only a higher association overseeing this one can comment on its plan."),
            status=403,
        )
    if not body.strip():
        raise GovernanceError(_l("Write the comment."), field="body")
    with tenant_context(scope_for(association, writable=True)):
        comment = SupervisionComment(
            year=year,
            body=body.strip(),
            author_id=author_id,
            author_association_id=access.oversight_from.id,
        )
        db.session.add(comment)
        db.session.flush()
    return comment


def supervision_comments(year: int) -> list[SupervisionComment]:
    return list(
        db.session.scalars(
            select(SupervisionComment)
            .where(SupervisionComment.year == year)
            .order_by(SupervisionComment.id)
        )
    )


# --- the residents' evaluation (评议) ---------------------------------------------------------

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a printed slip
CODE_LENGTH = 8
MAX_CODES_PER_BATCH = 500
SATISFIED = (4, 5)  # satisfied, very satisfied
COMMENT_STATE_LABELS = {
    CommentState.PENDING: _l("Waiting for moderation"),
    CommentState.PUBLISHED: _l("Published"),
    CommentState.HIDDEN: _l("Kept private"),
}
SCORE_LABELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Neutral"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}


def household_count() -> int:
    """Households of the register: what the number of responses is read against."""
    return db.session.scalar(select(func.count()).select_from(Household)) or 0


def year_of_survey(survey_id: int) -> int:
    return db.session.scalar(select(Survey.year).where(Survey.id == survey_id))


def latest_survey_year() -> int | None:
    return db.session.scalar(select(func.max(Survey.year)))


def survey_for(year: int) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.year == year))


def open_survey(year: int, *, closes_on: date, target_percent: int = 95) -> Survey:
    """Open the year's evaluation (once); it needs the year's plan published."""
    plan = db.session.scalar(select(YearPlan).where(YearPlan.year == year))
    if plan is None or not plan.is_published:
        raise GovernanceError(_l("Publish the year's plan before opening its evaluation."))
    if survey_for(year) is not None:
        raise GovernanceError(_l("The evaluation of this year is already open."), status=409)
    problem = date_problem(closes_on)
    if problem or closes_on < china_today():
        raise GovernanceError(
            problem or _l("Choose a closing date from today on."), field="closes_on"
        )
    if not 1 <= target_percent <= 100:
        raise GovernanceError(_l("A percentage target is at most 100."), field="target_percent")
    survey = Survey(year=year, closes_on=closes_on, target_percent=target_percent)
    db.session.add(survey)
    db.session.flush()
    return survey


def _code_hash(code: str) -> str:
    return crypto.lookup_hash("survey-code:" + normalise_code(code))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue_codes(survey: Survey, count: int) -> list[str]:
    """New one-time codes to print: returned once, kept only as keyed hashes."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise GovernanceError(
            _l("Print between 1 and %(n)d codes at a time.", n=MAX_CODES_PER_BATCH), field="count"
        )
    if survey.closes_on < china_today():
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    codes = []
    for _ in range(count):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        codes.append(f"{code[:4]}-{code[4:]}")
    # Stored in another order than printed: a row's id says nothing about which slip it was.
    for code in secrets.SystemRandom().sample(codes, len(codes)):
        db.session.add(SurveyCode(survey_id=survey.id, code_hash=_code_hash(code)))
    survey.codes_issued += count
    db.session.flush()
    return codes


@dataclass(frozen=True)
class Answers:
    overall: int
    scores: dict[int, int]  # commitment id → 1–5
    comment: str = ""


def answer_survey(survey: Survey, code: str, answers: Answers, *, today: date) -> SurveyResponse:
    """One response per code: the code is spent by one conditional UPDATE (two answers with the
    same code at once: one wins, the other is refused), and the response keeps no link to it."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    _check_answers(answers)
    spent = db.session.execute(
        update(SurveyCode)
        .where(
            SurveyCode.survey_id == survey.id,
            SurveyCode.code_hash == _code_hash(code),
            SurveyCode.used.is_(False),
        )
        .values(used=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise GovernanceError(
            _l("This code is not valid or has already been used."), status=409, field="code"
        )
    return _record_answers(survey, answers, today)


def _check_answers(answers: Answers) -> None:
    if answers.overall not in SCORE_LABELS or any(
        score not in SCORE_LABELS for score in answers.scores.values()
    ):
        raise GovernanceError(_l("Choose a rating from 1 to 5."), field="overall")


def _record_answers(survey: Survey, answers: Answers, today: date) -> SurveyResponse:
    _check_answers(answers)
    response = SurveyResponse(
        survey_id=survey.id,
        answered_on=today,
        overall=answers.overall,
        scores={str(k): v for k, v in answers.scores.items()},
        comment=answers.comment.strip()[:2000],
    )
    db.session.add(response)
    db.session.flush()
    _flag_a_burst(survey, today)
    return response


BURST_ANSWERS_PER_DAY = 50


def _flag_a_burst(survey: Survey, today: date) -> None:
    """Many answers in one day may be ballot stuffing (codes collected and filled in by one
    hand): the secretaries here and one level up are told once that day, with the count only."""
    if survey.burst_flagged_on == today:
        return
    answered = db.session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.answered_on == today)
    )
    if answered < BURST_ANSWERS_PER_DAY:
        return
    survey.burst_flagged_on = today
    db.session.flush()
    association = db.session.get(Association, survey.association_id)
    parent = db.session.get(Association, association.parent_id) if association.parent_id else None
    readers = secretaries(association) + (secretaries(parent) if parent else [])

    def write():
        return (
            gettext("Residents' evaluation: many answers today"),
            gettext(
                "%(association)s received %(n)d answers to its evaluation today. "
                "Check that the codes reached the households.",
                association=association.name,
                n=answered,
            ),
        )

    send_to(readers, write)


@dataclass(frozen=True)
class SurveyResults:
    responses: int
    satisfied: int
    codes_issued: int
    codes_used: int
    by_commitment: dict[int, tuple[int, int]]  # commitment id → (satisfied, answers)

    @property
    def satisfaction(self) -> Fraction | None:
        """满意率 = (satisfied + very satisfied) ÷ responses."""
        return share(self.satisfied, self.responses)


def survey_results(survey: Survey) -> SurveyResults:
    rows = db.session.execute(
        select(SurveyResponse.overall, SurveyResponse.scores).where(
            SurveyResponse.survey_id == survey.id
        )
    ).all()
    by_commitment: dict[int, list[int]] = {}
    for _overall, scores in rows:
        for key, score in (scores or {}).items():
            counts = by_commitment.setdefault(int(key), [0, 0])
            counts[0] += score in SATISFIED
            counts[1] += 1
    used = db.session.scalar(
        select(func.count())
        .select_from(SurveyCode)
        .where(SurveyCode.survey_id == survey.id, SurveyCode.used.is_(True))
    )
    return SurveyResults(
        responses=len(rows),
        satisfied=sum(1 for overall, _ in rows if overall in SATISFIED),
        codes_issued=survey.codes_issued,
        codes_used=used,
        by_commitment={key: (s, n) for key, (s, n) in by_commitment.items()},
    )


def survey_comments(survey: Survey, *, published_only: bool) -> list[SurveyResponse]:
    query = select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.comment != ""
    )
    if published_only:
        query = query.where(SurveyResponse.comment_state == CommentState.PUBLISHED)
    return list(db.session.scalars(query.order_by(SurveyResponse.id)))


def moderate_comment(response: SurveyResponse, *, publish: bool) -> None:
    response.comment_state = CommentState.PUBLISHED if publish else CommentState.HIDDEN
    db.session.flush()


# --- the report to residents (报告) -----------------------------------------------------------


def report_for(year: int) -> YearReport | None:
    return db.session.scalar(select(YearReport).where(YearReport.year == year))


def report_figures(association: Association, plan: YearPlan, today: date) -> dict:
    """What the report quotes: the year's figures and each commitment's outcome, as plain
    values (kept in the report when it is published)."""
    figures = year_figures(association, plan.year)
    survey = survey_for(plan.year)
    results = survey_results(survey) if survey else None
    rate = results.satisfaction if results else None
    return {
        "members": figures.members,
        "activities": figures.activities,
        "dues_collected_fen": figures.dues_collected_fen if figures.dues_expected_fen else None,
        "volunteer_hours": None
        if figures.volunteer_hours is None
        else int(figures.volunteer_hours),
        "commitments": [
            {
                "text": row.commitment.text,
                "state": row.state,
                "value": None if row.value is None else str(row.value),
                "target": row.commitment.target,
            }
            for row in progress(plan, figures, today)
        ],
        "responses": results.responses if results else None,
        "satisfaction": None if rate is None else str(percent(rate)),
        "target_percent": survey.target_percent if survey else None,
    }


def draft_report_text(association: Association, year: int, quoted: dict) -> str:
    """A first draft from the figures, in the secretary's language, for her to edit."""
    done = sum(1 for c in quoted["commitments"] if c["state"] == DONE)
    lines = [
        gettext(
            "In %(year)d, %(name)s had %(members)d members and held %(activities)d activities.",
            year=year,
            name=association.name,
            members=quoted["members"],
            activities=quoted["activities"],
        ),
        gettext(
            "Of our %(total)d commitments, %(done)d are fulfilled.",
            total=len(quoted["commitments"]),
            done=done,
        ),
    ]
    for commitment in quoted["commitments"]:
        lines.append(f"- {commitment['text']}: {STATE_LABELS[commitment['state']]}")
    if quoted["satisfaction"] is not None:
        lines.append(
            gettext(
                "%(n)d households answered the residents' evaluation; %(rate)s%% are satisfied.",
                n=quoted["responses"],
                rate=quoted["satisfaction"],
            )
        )
    return "\n".join(lines)


def save_report(year: int, body: str) -> YearReport:
    report = report_for(year)
    if report is None:
        report = YearReport(year=year, body="")
        db.session.add(report)
    if report.is_published:
        raise GovernanceError(_l("The report is published and can no longer change."), status=409)
    report.body = body.strip()
    db.session.flush()
    return report


def publish_report(association: Association, year: int, *, user_id: int | None) -> YearReport:
    """Publish the report with the figures it quotes frozen in it."""
    plan = plan_for(year)
    if plan is None or not plan.is_published:
        raise GovernanceError(_l("Publish the year's plan before its report."))
    report = report_for(year)
    if report is None or not report.body:
        raise GovernanceError(_l("Write the report before publishing it."))
    if report.is_published:
        raise GovernanceError(_l("The report is published and can no longer change."), status=409)
    report.frozen = report_figures(association, plan, china_today())
    report.published_at = utcnow()
    report.published_by_id = user_id
    db.session.flush()
    return report


# --- the view from above (监督): each association below and the subtree in total -------------


@dataclass
class CycleFigures:
    """Where a subtree stands in the year's cycle."""

    associations: int = 0
    plans_published: int = 0
    reports_published: int = 0
    responses: int = 0
    satisfied: int = 0

    @property
    def satisfaction(self) -> Fraction | None:
        return share(self.satisfied, self.responses)

    def add(self, other: "CycleFigures") -> None:
        self.associations += other.associations
        self.plans_published += other.plans_published
        self.reports_published += other.reports_published
        self.responses += other.responses
        self.satisfied += other.satisfied


def cycle_below(association: Association, year: int) -> tuple[list, CycleFigures]:
    """Each direct child with its subtree's plans and reports published and its residents'
    satisfaction, and the same over the whole subtree (itself included). Five queries whatever
    the size of the tree; every answer of the subtree counts once in the total (satisfaction
    rolls up as satisfied ÷ responses, not as an average of rates). Run inside
    subtree_reads()."""
    depth = len(association.path.strip("/").split("/"))
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name)
        )
    )
    paths = dict(
        db.session.execute(
            select(Association.id, Association.path).where(subtree_filter(association.path))
        ).all()
    )
    per_association: dict[int, CycleFigures] = {i: CycleFigures(associations=1) for i in paths}
    for (association_id,) in db.session.execute(
        select(YearPlan.association_id).where(
            YearPlan.year == year, YearPlan.published_at.is_not(None)
        )
    ):
        per_association[association_id].plans_published += 1
    for (association_id,) in db.session.execute(
        select(YearReport.association_id).where(
            YearReport.year == year, YearReport.published_at.is_not(None)
        )
    ):
        per_association[association_id].reports_published += 1
    answered = db.session.execute(
        select(
            SurveyResponse.association_id,
            func.count(),
            func.count().filter(SurveyResponse.overall.in_(SATISFIED)),
        )
        .join(
            Survey,
            (Survey.id == SurveyResponse.survey_id)
            & (Survey.association_id == SurveyResponse.association_id),
        )
        .where(Survey.year == year)
        .group_by(SurveyResponse.association_id)
    )
    for association_id, responses, satisfied in answered:
        per_association[association_id].responses += responses
        per_association[association_id].satisfied += satisfied
    rows = {child.id: CycleFigures() for child in children}
    total = CycleFigures()
    for association_id, figures in per_association.items():
        total.add(figures)
        parts = paths[association_id].strip("/").split("/")
        if len(parts) > depth and int(parts[depth]) in rows:
            rows[int(parts[depth])].add(figures)
    return [(child, rows[child.id]) for child in children], total


# --- verification by SMS (for residents with a phone) -----------------------------------------

SMS_CODE_MINUTES = 10
MAX_CODES_PER_PHONE = 3
MAX_WRONG_CODES = 5


class WrongSmsCode(GovernanceError):
    """A wrong SMS code: counted (and committed by the view) before the answer is refused."""


def _phone_hash(phone: str) -> str:
    return crypto.lookup_hash("survey-phone:" + phone)


def _sms_code_hash(phone_hash: str, code: str) -> str:
    return crypto.lookup_hash(f"survey-sms:{phone_hash}:{code.strip()}")


def _checked_phone(raw: str) -> str:
    try:
        return validate_phone(raw)
    except ValueError:
        raise GovernanceError(_l("Enter an 11-digit mobile number."), field="phone") from None


def send_phone_code(survey: Survey, raw_phone: str, *, today: date) -> None:
    """Text a six-digit code to a phone that has not answered yet (at most three per phone).
    Only the phone's keyed hash is kept; the number goes no further than the SMS itself."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    phone = _checked_phone(raw_phone)
    phone_hash = _phone_hash(phone)
    row = db.session.scalar(
        select(SurveyPhone).where(
            SurveyPhone.survey_id == survey.id, SurveyPhone.phone_hash == phone_hash
        )
    )
    if row is None:
        row = SurveyPhone(survey_id=survey.id, phone_hash=phone_hash, codes_sent=0)
        db.session.add(row)
    if row.answered:
        raise GovernanceError(_l("This phone has already answered."), status=409, field="phone")
    if row.codes_sent >= MAX_CODES_PER_PHONE:
        raise GovernanceError(
            _l("Too many codes were sent to this phone. Ask the secretary for a printed slip."),
            status=429,
            field="phone",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row.code_hash = _sms_code_hash(phone_hash, code)
    row.code_expires_at = utcnow() + timedelta(minutes=SMS_CODE_MINUTES)
    row.codes_sent += 1
    row.failed_attempts = 0
    db.session.flush()
    notify_sms(
        phone,
        gettext(
            "Your code for the residents' evaluation: %(code)s (valid %(minutes)d minutes).",
            code=code,
            minutes=SMS_CODE_MINUTES,
        ),
    )


def answer_survey_by_phone(
    survey: Survey, raw_phone: str, sms_code: str, answers: Answers, *, today: date
) -> SurveyResponse:
    """One answer per phone, verified by the code texted to it."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    _check_answers(answers)
    phone_hash = _phone_hash(_checked_phone(raw_phone))
    row = db.session.scalar(
        select(SurveyPhone).where(
            SurveyPhone.survey_id == survey.id, SurveyPhone.phone_hash == phone_hash
        )
    )
    refused = _l("The SMS code is wrong or has expired: ask for a new one.")
    if row is None or row.answered or row.code_hash is None or row.code_expires_at < utcnow():
        raise GovernanceError(refused, status=409, field="sms_code")
    if row.failed_attempts >= MAX_WRONG_CODES:
        raise GovernanceError(refused, status=409, field="sms_code")
    if not hmac.compare_digest(row.code_hash, _sms_code_hash(phone_hash, sms_code)):
        row.failed_attempts += 1
        db.session.flush()
        raise WrongSmsCode(refused, status=409, field="sms_code")
    spent = db.session.execute(
        update(SurveyPhone)
        .where(SurveyPhone.id == row.id, SurveyPhone.answered.is_(False))
        .values(answered=True, code_hash=None, code_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise GovernanceError(_l("This phone has already answered."), status=409, field="phone")
    return _record_answers(survey, answers, today)
