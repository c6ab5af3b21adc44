"""Demo volunteering for the README's community: a building team, shifts (one short of people)
and confirmed hours, so the demo secretary and member see every volunteer page filled in."""

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import CHINA, utcnow
from app.extensions import db
from app.members.models import Member
from app.volunteers import services
from app.volunteers.models import Assignment, AssignmentStatus, Shift
from tenants.context import scope_for, tenant_context
from tenants.models import Association


def load_volunteer_sample(community: Association, *, member_user_id: int) -> None:
    now = utcnow()
    with tenant_context(scope_for(community, writable=True)):
        members = list(db.session.scalars(select(Member).order_by(Member.id).limit(6)))
        own = next(m for m in members if m.user_id == member_user_id)
        others = [m for m in members if m.id != own.id][:4]
        profiles = [
            services.create_volunteer(
                services.VolunteerInput(
                    member_id=member.id,
                    skills=skills,
                    weekdays=weekdays,
                    times_of_day=times,
                    tags=tags,
                )
            )
            for member, skills, weekdays, times, tags in (
                (own, "宣传讲解、写标语", ["6", "7"], ["morning"], ["信息员"]),
                (
                    others[0],
                    "楼栋走访",
                    ["1", "3", "5"],
                    ["morning", "afternoon"],
                    ["院楼长", "五老"],
                ),
                (others[1], "急救、量血压", ["2", "4"], ["afternoon"], ["单元组长"]),
                (others[2], "摄影", ["6"], ["morning"], []),
                (others[3], "文艺演出", ["5", "6"], ["evening"], ["五老"]),
            )
        ]
        profiles.append(
            services.create_volunteer(
                services.VolunteerInput(
                    name="钱师傅", phone="13905519001", skills="水电维修", tags=[]
                )
            )
        )
        team = services.create_team(
            services.TeamInput(
                name="梨花社区楼栋志愿队",
                leader_id=profiles[1].id,
                duties="每周巡查楼道安全，走访独居老人和计生困难家庭，及时上报家庭变化。",
            )
        )
        for volunteer, duty in (
            (profiles[0], "1栋1-2单元"),
            (profiles[2], "3栋"),
            (profiles[5], ""),
        ):
            services.add_team_member(team, volunteer.id, duty=duty)

        def shift(title, starts_in, hours, needed, place, team_id=None):
            start = (now + starts_in).replace(minute=0, second=0, microsecond=0)
            row = Shift(
                title=title,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                people_needed=needed,
                place=place,
                team_id=team_id,
            )
            db.session.add(row)
            db.session.flush()
            return row

        clinic = shift("周六义诊现场引导", timedelta(days=3), 3, 4, "梨花社区广场")
        patrol = shift("楼道安全巡查", timedelta(days=5), 2, 2, "1—4栋", team.id)
        visit = shift("走访慰问独居老人", timedelta(days=-2), 3, 3, "梨花社区", team.id)
        served_on = visit.starts_at.astimezone(CHINA).date()
        for row, volunteers in (
            (clinic, profiles[:2]),  # two of four: a gap of two
            (patrol, profiles[1:3]),
            (visit, profiles[:3]),
        ):
            for volunteer in volunteers:
                assignment = Assignment(
                    shift_id=row.id, volunteer_id=volunteer.id, status=AssignmentStatus.SIGNED_UP
                )
                if row is visit:
                    assignment.minutes = visit.minutes
                    assignment.served_on = served_on
                    assignment.confirmed_at = now
                db.session.add(assignment)
        db.session.flush()
