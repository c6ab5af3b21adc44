"""Test data factories: users with roles, and a standard small association tree.

province ── county ─┬─ township_a ─┬─ village_a1
                    │              └─ village_a2
                    └─ township_b ─── village_b1
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyotp
from sqlalchemy import select

from app.accounts import second_factor as second_factors
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.core.clock import china_today
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, AssociationKind, Membership, Role
from tenants.tree import create_association

PASSWORD = "Test-Password-2026"
_HASH_CACHE: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    # argon2 is slow on purpose; one hash per password per test process is enough.
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


def create_user(
    login: str,
    name: str = "测试用户",
    *,
    roles=(),
    admin: bool = False,
    second_factor: bool | None = None,
) -> User:
    """A user, with (association, role) pairs; committed. Users who must have a second factor
    (the operator, staff roles at county level and above) have it on with TOTP_SECRET unless
    `second_factor=False`; `True` turns it on for anyone."""
    with UNSCOPED_BYPASS("test factory"):
        user = User(login=login, name=name, password_hash=password_hash(), is_platform_admin=admin)
        db.session.add(user)
        db.session.flush()
        for association, role in roles:
            db.session.add(Membership(association_id=association.id, user_id=user.id, role=role))
        db.session.flush()
        if second_factor is None:
            second_factor = second_factors.is_required(user)
        if second_factor:
            enrol_second_factor(user)
        db.session.commit()
    return user


# The second factor of test users: sign in with `next_code(login)`.
TOTP_SECRET = "TESTTESTTESTTESTTESTTESTTESTTEST"


def enrol_second_factor(user: User, secret: str = TOTP_SECRET) -> None:
    """The second factor on, as enrolment leaves it (without recovery codes); flushed."""
    second_factors.enable_with_known_secret(user, secret)
    db.session.flush()


def next_code(login: str, secret: str = TOTP_SECRET) -> str:
    """A code the app accepts now for this user: the earliest step of the accepted window
    (now ± 1) after the last one used, so up to three sign-ins in a row work."""
    with UNSCOPED_BYPASS("test helper reads the user's last used step"):
        last = db.session.scalar(
            select(User.totp_last_step)
            .where(User.login == login)
            .execution_options(populate_existing=True)
        )
        db.session.commit()
    now = second_factors.current_step()
    step = max(now - 1, (last if last is not None else now - 2) + 1)
    assert step <= now + 1, f"no unused code left for {login} in this 30-second window"
    return pyotp.TOTP(secret).generate_otp(step)


# The standard tree existed long before the years the tests look at (an association counts in
# a period only if it was created by the period's end: app/dashboards/figures.py).
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def create_tree_node(
    slug: str,
    kind: AssociationKind,
    parent: Association | None,
    *,
    created_at: datetime = LONG_AGO,
    **fields,
):
    with UNSCOPED_BYPASS("test factory"):
        association = create_association(
            name=fields.pop("name", f"{slug}计生协"), slug=slug, kind=kind, parent=parent, **fields
        )
        association.created_at = created_at
        db.session.commit()
    return association


@dataclass
class World:
    province: Association
    county: Association
    township_a: Association
    township_b: Association
    village_a1: Association
    village_a2: Association
    village_b1: Association
    secretary_a1: User
    staff_a1: User
    member_a1: User
    secretary_a2: User
    secretary_b1: User
    township_a_secretary: User
    county_auditor: User
    township_b_auditor: User
    admin: User


def build_world() -> World:
    K = AssociationKind
    province = create_tree_node(
        "province", K.PROVINCE, None, division_code="340000000000", served_population=60_000_000
    )
    county = create_tree_node(
        "county", K.COUNTY, province, division_code="340104000000", served_population=1_000_000
    )
    township_a = create_tree_node(
        "township-a", K.TOWNSHIP, county, division_code="340104001000", served_population=80_000
    )
    township_b = create_tree_node(
        "township-b", K.TOWNSHIP, county, division_code="340104100000", served_population=50_000
    )
    village_a1 = create_tree_node(
        "village-a1", K.COMMUNITY, township_a, division_code="340104001001", served_population=9_000
    )
    village_a2 = create_tree_node("village-a2", K.VILLAGE, township_a, served_population=3_000)
    village_b1 = create_tree_node("village-b1", K.VILLAGE, township_b, served_population=2_500)
    R = Role
    return World(
        province=province,
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a1=village_a1,
        village_a2=village_a2,
        village_b1=village_b1,
        secretary_a1=create_user("sec.a1@test.cn", "秘书甲", roles=[(village_a1, R.SECRETARY)]),
        staff_a1=create_user("staff.a1@test.cn", "干事甲", roles=[(village_a1, R.STAFF)]),
        member_a1=create_user("member.a1@test.cn", "会员甲", roles=[(village_a1, R.MEMBER)]),
        secretary_a2=create_user("sec.a2@test.cn", "秘书乙", roles=[(village_a2, R.SECRETARY)]),
        secretary_b1=create_user("sec.b1@test.cn", "秘书丙", roles=[(village_b1, R.SECRETARY)]),
        township_a_secretary=create_user(
            "sec.ta@test.cn", "街道秘书", roles=[(township_a, R.SECRETARY)]
        ),
        county_auditor=create_user("auditor.c@test.cn", "县审核员", roles=[(county, R.AUDITOR)]),
        township_b_auditor=create_user(
            "auditor.tb@test.cn", "镇审核员", roles=[(township_b, R.AUDITOR)]
        ),
        admin=create_user("admin@test.cn", "管理员", admin=True),
    )


def reload(model, id_: int):
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(
            select(model).where(model.id == id_).execution_options(populate_existing=True)
        )


# ---- member and household registers (app/members) --------------------------------------------


def create_household(association: Association, address: str = "幸福路1号", **fields):
    """A household of `association`; committed. `central=True` makes it a central household."""
    from app.members import households
    from tenants.context import scope_for, tenant_context

    central = fields.pop("central", False)
    with tenant_context(scope_for(association, writable=True)):
        household = households.create_household(
            households.HouseholdInput(address=address, **fields)
        )
        if central:
            households.mark_central(household)
        db.session.commit()
        db.session.refresh(household)  # load it while in scope (row-level security)
    return household


def create_member(association: Association, name: str = "张三", **fields):
    """A member of `association` (fields of MemberInput: phone, id_number, household_id…);
    committed."""
    from app.members import services as registers
    from tenants.context import scope_for, tenant_context

    with tenant_context(scope_for(association, writable=True)):
        member = registers.create_member(registers.MemberInput(name=name, **fields))
        db.session.commit()
        db.session.refresh(member)  # load it while in scope (row-level security)
    return member


def create_validated_import(association: Association, rows: list[dict] | None = None):
    """An import waiting for confirmation, with staged rows (row numbers from 2); committed."""
    import json

    from app.core import crypto
    from app.members import importing
    from app.members.models import ImportStatus, MemberImport, MemberImportRow
    from tenants.context import scope_for, tenant_context

    rows = rows if rows is not None else [{"name": "王五", "phone": "13900001111"}]
    with tenant_context(scope_for(association, writable=True)):
        member_import = MemberImport(
            filename="会员.xlsx",
            status=ImportStatus.VALIDATING,
            headers=sorted({key for row in rows for key in row}),
            mapping={str(i): key for i, key in enumerate(sorted({k for r in rows for k in r}))},
        )
        db.session.add(member_import)
        db.session.flush()
        records = [(number, row) for number, row in enumerate(rows, start=2)]
        checked = importing.check_rows(records, importing.RegisterSnapshot.load())
        for row in checked:
            db.session.add(
                MemberImportRow(
                    import_id=member_import.id,
                    row_number=row.number,
                    values_encrypted=crypto.encrypt(json.dumps(row.values)),
                    problems=row.problems,
                    valid=row.valid,
                )
            )
        member_import.total_rows = len(checked)
        member_import.valid_rows = sum(1 for row in checked if row.valid)
        member_import.rejected_rows = len(checked) - member_import.valid_rows
        member_import.status = ImportStatus.VALIDATED
        db.session.commit()
        db.session.refresh(member_import)  # load it while in scope (row-level security)
    return member_import


def create_activity(
    association: Association,
    *,
    title: str = "会员活动日",
    held_on=None,
    type: str = "member_day",
    participant_count: int = 20,
    photos: int = 0,
    member_ids=(),
):
    """An activity (issue 4) with `photos` small JPEGs and the registered members who took
    part; returned detached, attributes loaded."""
    import io
    from datetime import date

    from app.activities.models import ActivityType
    from app.activities.services import ActivityInput, add_photos, record_activity
    from tenants.context import scope_for, tenant_context
    from tests.uploads.samples import jpeg

    with tenant_context(scope_for(association, writable=True)):
        activity = record_activity(
            ActivityInput(
                held_on=held_on or china_today(),
                title=title,
                type=ActivityType(type),
                participant_count=participant_count,
                member_ids=list(member_ids),
            ),
            recorded_by_id=None,
            today=date(2100, 1, 1),
        )
        add_photos(
            activity,
            [io.BytesIO(jpeg()) for _ in range(photos)],
            association_id=association.id,
            uploaded_by_id=None,
        )
        db.session.expunge(activity)
        db.session.commit()
    return activity


def create_checklist(
    association: Association, *, year: int | None = None, evidence_for=(), submitted=False
):
    """A 七有 checklist (issue 4), with a photo as evidence for the items in `evidence_for`
    (all of 4, 5, 6 when `submitted`), submitted if asked. Without a year, one not used yet.
    Returned detached with its items and their evidence loaded."""
    import io

    from sqlalchemy import func

    from app.checklist import services as checklists
    from app.checklist.models import Checklist
    from tenants.context import scope_for, tenant_context
    from tests.uploads.samples import jpeg

    with tenant_context(scope_for(association, writable=True)):
        if year is None:
            year = 2000 + db.session.scalar(select(func.count(Checklist.id)))
        for number in (4, 5, 6) if submitted else evidence_for:
            checklists.add_evidence(
                year,
                number,
                io.BytesIO(jpeg()),
                note="照片",
                association_id=association.id,
                user_id=None,
            )
        if submitted:
            checklists.submit(year, user_id=None)
        checklist = checklists.ensure_checklist(year)
        for item in checklist.items:
            for evidence in item.evidence:
                db.session.expunge(evidence.stored_file)
                db.session.expunge(evidence)
            db.session.expunge(item)
        db.session.expunge(checklist)
        db.session.commit()
    return checklist


# ---- events (app/events) -------------------------------------------------------------------


def create_event(association: Association, title: str = "健康讲座", **fields):
    """An event of the association, by default starting in a week with 10 places; committed."""
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.events.models import Event, EventScope
    from tenants.context import scope_for, tenant_context

    start = fields.pop("starts_at", utcnow() + timedelta(days=7))
    with tenant_context(scope_for(association, writable=True)):
        event = Event(
            title=title,
            description=fields.pop("description", "讲座内容"),
            place=fields.pop("place", "活动室"),
            starts_at=start,
            ends_at=fields.pop("ends_at", start + timedelta(hours=2)),
            signup_deadline=fields.pop("signup_deadline", start - timedelta(days=1)),
            capacity=fields.pop("capacity", 10),
            scope=fields.pop("scope", EventScope.ASSOCIATION),
            **fields,
        )
        db.session.add(event)
        db.session.commit()
        db.session.refresh(event)
        db.session.expunge(event)
    return event


# ---- oversight (app/oversight) ---------------------------------------------------------------


def create_task(target: Association, *, opened_by: User, title: str = "活动照片不全", **fields):
    """A rectification task against `target` opened by `opened_by` (who oversees it), due in a
    week unless `deadline_on` says otherwise (a past deadline is set after opening, as time
    passing would); `state` moves it on directly. Returned detached; committed."""
    from datetime import timedelta

    from app.oversight import rectification
    from app.oversight.models import TaskState
    from tenants.context import scope_for, tenant_context

    deadline_on = fields.pop("deadline_on", china_today() + timedelta(days=7))
    state = fields.pop("state", None)
    with tenant_context(scope_for(target, writable=False)):
        task = rectification.open_task(
            target,
            rectification.TaskInput(
                title=title,
                description=fields.pop("description", "请补充活动照片"),
                deadline_on=max(deadline_on, china_today()),
                **fields,
            ),
            user_id=opened_by.id,
            today=china_today(),
        )
        with tenant_context(scope_for(target, writable=True)):
            task.deadline_on = deadline_on
            if state is not None:
                task.state = TaskState(state)
            db.session.flush()
            db.session.commit()
            db.session.refresh(task)
            db.session.expunge(task)
    return task


def create_spot_check(association: Association, *, activity_ids=None, drawn_by: User | None = None):
    """A recorded draw at `association` with one entry per activity id (by default one new
    activity of the association itself). Returned detached with its entries; committed."""

    from sqlalchemy.orm import selectinload

    from app.oversight.models import SpotCheck, SpotCheckEntry
    from tenants.context import scope_for, tenant_context

    if activity_ids is None:
        activity_ids = [create_activity(association).id]
    with tenant_context(scope_for(association, writable=True)):
        spot_check = SpotCheck(
            drawn_by_id=drawn_by.id if drawn_by else None,
            year=china_today().year,
            sample_size=len(activity_ids),
            population=len(activity_ids),
            seed=12345,
            activity_ids=list(activity_ids),
        )
        db.session.add(spot_check)
        db.session.flush()
        for position, activity_id in enumerate(activity_ids, start=1):
            db.session.add(
                SpotCheckEntry(
                    spot_check_id=spot_check.id,
                    position=position,
                    activity_id=activity_id,
                    activity_association_id=association.id,
                )
            )
        db.session.commit()
        spot_check = db.session.scalar(
            select(SpotCheck)
            .where(SpotCheck.id == spot_check.id)
            .options(selectinload(SpotCheck.entries))
        )
        for entry in spot_check.entries:
            db.session.expunge(entry)
        db.session.expunge(spot_check)
    return spot_check


# ---- the self-governance cycle (app/governance) -----------------------------------------------


def create_plan(
    association: Association,
    *,
    year: int | None = None,
    commitments=(("发展新会员", "members", 100, 4),),
    planned=((5, "5·29 会员活动日"),),
    published: bool = False,
):
    """The association's yearly plan with commitments (text, measure, target, due quarter) and
    planned activities (month, title); approved (minutes as a PDF) and published when asked.
    Committed; returns the plan."""
    import io

    from app.governance import services as governance
    from app.governance.models import ApprovingBody, Measure
    from tenants.context import scope_for, tenant_context
    from tests.uploads.samples import PDF

    year = year or china_today().year
    with tenant_context(scope_for(association, writable=True)):
        for text, measure, target, quarter in commitments:
            governance.add_commitment(
                year, governance.CommitmentInput(text, Measure(measure), target, quarter)
            )
        for month, title in planned:
            governance.add_planned_activity(year, month=month, title=title)
        governance.ensure_plan(year)
        if published:
            governance.record_approval(
                year,
                governance.ApprovalInput(
                    approved_on=date(year, 1, 1) if year < china_today().year else china_today(),
                    approved_by=ApprovingBody.MEMBERS_MEETING,
                    attendance=35,
                ),
                io.BytesIO(PDF),
                association_id=association.id,
                user_id=None,
            )
            governance.publish(year, user_id=None)
        db.session.commit()
        plan = governance.plan_for(year)
        # Detached, loaded as it is now: later commits elsewhere do not expire it.
        for row in (*plan.commitments, *plan.planned_activities, plan):
            db.session.expunge(row)
    return plan


def create_survey(
    association: Association, *, codes: int = 3, target_percent: int = 95, year: int | None = None
):
    """The year's evaluation (this year's unless `year` is given; open until the end of this
    year) of a published plan (made if none) and `codes` printed codes; committed. Returns
    (survey id, the codes)."""
    from datetime import date as date_

    from app.governance import services as governance
    from tenants.context import scope_for, tenant_context

    year = year or china_today().year
    with tenant_context(scope_for(association, writable=True)):
        published = governance.plan_for(year)
    if published is None or not published.is_published:
        create_plan(association, year=year, published=True)
    with tenant_context(scope_for(association, writable=True)):
        survey = governance.survey_for(year) or governance.open_survey(
            year, closes_on=date_(china_today().year, 12, 31), target_percent=target_percent
        )
        printed = governance.issue_codes(survey, codes)
        survey_id = survey.id
        db.session.commit()
    return survey_id, printed


def create_survey_response(association: Association, *, overall: int = 5, comment: str = "很好"):
    """One answer to the association's evaluation (opened if needed); committed. Returns its id."""
    from app.governance import services as governance
    from app.governance.models import Survey
    from tenants.context import scope_for, tenant_context

    survey_id, (code, *_rest) = create_survey(association, codes=1)
    with tenant_context(scope_for(association, writable=True)):
        survey = db.session.get(Survey, survey_id)
        response = governance.answer_survey(
            survey, code, governance.Answers(overall, {}, comment), today=china_today()
        )
        response_id = response.id
        db.session.commit()
    return response_id


# ---- the yearly assessment (app/assessments) -----------------------------------------------

DEFAULT_SHEET_ITEMS = (
    ("七有合格", 100, "qiyou"),
    ("每季度开展活动", 100, "active_quarters"),
    ("宣传阵地建设", 100, "manual"),
)


def create_assessment_sheet(
    level: Association,
    *,
    year: int | None = None,
    kind: str = "community",  # village_a1 of the standard world is a community
    published: bool = True,
    items=DEFAULT_SHEET_ITEMS,
    due_on=None,
):
    """A scoring sheet of `level` for `kind` (items: (title, points in tenths, rule)), published
    unless asked otherwise. Without a year, one the level has no sheet for yet. Returned
    detached with its items loaded; committed."""
    from sqlalchemy import func

    from app.assessments.models import AssessmentSheet, Rule, SheetItem
    from app.core.clock import utcnow

    if year is None:
        year = 2000 + db.session.scalar(
            select(func.count(AssessmentSheet.id)).where(AssessmentSheet.association_id == level.id)
        )
    sheet = AssessmentSheet(
        association_id=level.id,
        year=year,
        kind=kind,
        title=f"{year}年度考核",
        published_at=utcnow() if published else None,
        due_on=due_on,
    )
    sheet.items = [
        SheetItem(position=n, title=title, points_tenths=points, rule=Rule(rule))
        for n, (title, points, rule) in enumerate(items, start=1)
    ]
    db.session.add(sheet)
    db.session.flush()
    for item in sheet.items:
        db.session.expunge(item)
    db.session.expunge(sheet)
    db.session.commit()
    return sheet


# ---- statistics reports (app/reports) -----------------------------------------------------------

REPORT_FIELDS = [
    {"key": "m1", "label": "宣传次数", "kind": "number", "choices": [], "required": True},
    {"key": "m2", "label": "其中入户宣传", "kind": "number", "choices": [], "required": False},
    {"key": "m3", "label": "说明", "kind": "text", "choices": [], "required": False},
]
REPORT_CHECKS = [
    {"kind": "le", "left": "m2", "right": "m1"},
    {"kind": "le", "left": "fig:new_members", "right": "fig:members"},
    {"kind": "ge0", "left": "m1", "right": ""},
    {"kind": "required_if", "left": "m3", "right": "m2"},
]


def create_report_form(owner: Association, name: str = "季度统计报表", **fields):
    """A report form `owner` publishes for its subtree (rows written directly: a grassroots
    owner, refused by the service, is allowed for the route sweep); committed, returns it."""
    from datetime import timedelta

    from app.reports.models import PeriodKind, ReportForm

    today = china_today()
    form = ReportForm(
        association_id=owner.id,
        name=name,
        period_kind=fields.pop("period_kind", PeriodKind.QUARTER),
        year=fields.pop("year", today.year),
        period_number=fields.pop("period_number", (today.month - 1) // 3 + 1),
        deadline_on=fields.pop("deadline_on", today + timedelta(days=10)),
        figures=fields.pop("figures", ["members", "new_members", "activities"]),
        fields=fields.pop("fields", REPORT_FIELDS),
        checks=fields.pop("checks", REPORT_CHECKS),
        **fields,
    )
    db.session.add(form)
    db.session.commit()
    return form


def create_report(association: Association, form, *, state: str = "draft", values=None):
    """`association`'s report of `form` in `state` (submitted/accepted get their times);
    committed; returns its id."""
    from app.core.clock import utcnow
    from app.reports.models import Report, ReportState
    from tenants.context import scope_for, tenant_context

    with tenant_context(scope_for(association, writable=True)):
        version = 1 + len(
            db.session.scalars(select(Report.id).where(Report.form_id == form.id)).all()
        )
        report = Report(
            form_id=form.id,
            version=version,
            state=ReportState(state),
            values=values if values is not None else {"fig:members": 10, "m1": 3},
            figures_source="live",
            remarks="",
            incomplete_reason="",
            decision_comment="",
            submitted_at=utcnow() if state != "draft" else None,
            decided_at=utcnow() if state == "accepted" else None,
        )
        db.session.add(report)
        db.session.flush()
        report_id = report.id
        db.session.commit()
    return report_id
