"""Object ids for URL arguments: for each `<int:name>` in a tenant route, how to make one
object in a given association. The sweep makes one in village_a1 (the requester's own) and
one in village_a2 (a sibling's) and checks that the sibling's id answers 404 under the own slug.

A new URL argument without an entry here fails the sweep: add a maker for it.
"""

import secrets
from datetime import timedelta

from app.accounts.models import Invitation
from app.core.clock import utcnow
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.factories import create_household, create_member, create_validated_import


def _invitation(world, association):
    with UNSCOPED_BYPASS("test fixture for the route sweep"):
        invitation = Invitation(
            association_id=association.id,
            login=f"invitee.{secrets.token_hex(4)}@test.cn",
            name="受邀人",
            role="member",
            token_hash=secrets.token_hex(32),
            expires_at=utcnow() + timedelta(days=3),
        )
        db.session.add(invitation)
        db.session.flush()
        invitation_id = invitation.id
        db.session.commit()
    return invitation_id


def _child_association(world, association):
    """An association directly below the given one (the tree's kind rules are skipped: the
    sweep requests a grassroots association's pages)."""
    from tenants.models import Association, AssociationKind

    child = Association(
        name=f"下级{secrets.token_hex(3)}",
        slug=f"child-{secrets.token_hex(4)}",
        kind=AssociationKind.VILLAGE,
        parent_id=association.id,
        depth=association.depth + 1,
        served_population=100,
    )
    db.session.add(child)
    db.session.flush()
    child.path = f"{association.path}{child.id}/"
    child_id = child.id
    db.session.commit()
    return child_id


def _membership(world, association):
    """A person holding a staff role in the given association."""
    from tenants.models import Role
    from tests.factories import create_user

    user = create_user(
        f"person.{secrets.token_hex(4)}@test.cn", "某人", roles=[(association, Role.STAFF)]
    )
    with UNSCOPED_BYPASS("test fixture for the route sweep"):
        from sqlalchemy import select

        from tenants.models import Membership

        return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))


def _stored_file(world, association):
    """A real photo (bytes on disk and a row), as the activity log keeps them."""
    import io

    from app.core.uploads import PHOTO, store_upload
    from tenants.context import scope_for, tenant_context
    from tests.uploads.samples import jpeg

    with tenant_context(scope_for(association, writable=True)):
        stored = store_upload(
            io.BytesIO(jpeg()), PHOTO, association_id=association.id, uploaded_by_id=None
        )
        stored_id = stored.id
        db.session.commit()
    return stored_id


def _activity(world, association):
    from tests.factories import create_activity

    return create_activity(association).id


def _group_message(world, association):
    from app.associations.group_sms.models import Group, GroupMessage

    with tenant_context(scope_for(association, writable=True)):
        message = GroupMessage(group=Group.MEMBERS, body="通知", sent_by_id=None)
        db.session.add(message)
        db.session.commit()
        return message.id


def _activity_photo(world, association):
    from sqlalchemy import select

    from app.activities.models import ActivityPhoto
    from tests.factories import create_activity

    activity = create_activity(association, photos=1)
    with UNSCOPED_BYPASS("read the id of the photo just made"):
        return db.session.scalar(
            select(ActivityPhoto.id).where(ActivityPhoto.activity_id == activity.id)
        )


def _checklist_item(world, association):
    """A submitted 七有 item, in a checklist of a year of its own (makers run several times)."""
    from tests.factories import create_checklist

    return create_checklist(association, submitted=True).items[0].id


def _checklist_evidence(world, association):
    """Evidence not yet submitted, which its secretary may still remove."""
    from tests.factories import create_checklist

    return create_checklist(association, evidence_for=(4,)).items[3].evidence[0].id


def _member(world, association):
    return create_member(association, name="路由测试").id


def _household(world, association):
    return create_household(association, address="路由测试1号").id


def _member_import(world, association):
    return create_validated_import(association).id


def _event(world, association):
    from tests.factories import create_event

    return create_event(association, title="路由测试活动").id


def _registration(world, association):
    """A walk-in at the association's newest event (the sweep makes event_id first)."""
    from sqlalchemy import func, select

    from app.events.attendance import add_walk_in
    from app.events.models import Event
    from tenants.context import scope_for, tenant_context
    from tests.factories import create_event

    with tenant_context(scope_for(association, writable=True)):
        event_id = db.session.scalar(select(func.max(Event.id)))
    if event_id is None:
        event_id = create_event(association).id
    with tenant_context(scope_for(association, writable=True)):
        event = db.session.get(Event, event_id)
        registration = add_walk_in(event, "路由测试", now=utcnow())
        registration_id = registration.id
        db.session.commit()
    return registration_id


def _task(world, association):
    """A rectification task against the association, opened by the county's auditor."""
    from tests.factories import create_task

    return create_task(association, opened_by=world.county_auditor).id


def _report_form(world, association):
    """A report form the association itself defined (its own form page)."""
    from tests.factories import create_report_form

    return create_report_form(association).id


def _report(world, association):
    """The association's draft report of a form of its parent."""
    from tenants.models import Association
    from tests.factories import create_report, create_report_form

    parent = db.session.get(Association, association.parent_id)
    return create_report(association, create_report_form(parent))


def _spot_check(world, association):
    from tests.factories import create_spot_check

    return create_spot_check(association).id


def _spot_check_entry(world, association):
    from tests.factories import create_spot_check

    return create_spot_check(association).entries[0].id


def _charge(world, association):
    """An open dues charge of a member who has no login (nobody's own charge)."""
    from tests.dues.stripe_fake import set_up_dues

    return set_up_dues(association, account=None, member_name="路由会员").charge_id


def _dues_payment(world, association):
    from tests.dues.makers import create_payment

    return create_payment(association).id


def _dues_exemption(world, association):
    from tests.dues.makers import create_exemption

    return create_exemption(association).id


def _central_household(world, association):
    from tests.factories import create_household

    return create_household(association, f"中心户{secrets.token_hex(3)}", central=True).id


def _volunteer(world, association):
    """A volunteer who is not a member (on no team and no shift)."""
    from tests.volunteers.makers import create_volunteer

    return create_volunteer(association, name="路由志愿者", member=False).id


def _team(world, association):
    from tests.volunteers.makers import create_team

    return create_team(association, name=f"路由测试队{secrets.token_hex(3)}").id


def _shift(world, association):
    from tests.volunteers.makers import create_shift

    return create_shift(association).id


def _data_request(world, association):
    from app.members.models import PersonalDataRequest

    member_id = create_member(association, f"请求人{secrets.token_hex(3)}").id
    with UNSCOPED_BYPASS("test fixture for the route sweep"):
        request = PersonalDataRequest(
            association_id=association.id, member_id=member_id, member_name="请求人"
        )
        db.session.add(request)
        db.session.commit()
        return request.id


def _household_move(world, association):
    from app.members.models import HouseholdMoveRequest

    member_id = create_member(association, f"迁户人{secrets.token_hex(3)}").id
    with UNSCOPED_BYPASS("test fixture for the route sweep"):
        move = HouseholdMoveRequest(
            association_id=association.id, member_id=member_id, new_address="新村1号"
        )
        db.session.add(move)
        db.session.commit()
        return move.id


# url argument name -> maker(world, association) -> id
def _commitment(world, association):
    """A commitment of the association's draft plan of the year."""
    from tests.factories import create_plan

    return create_plan(association, planned=()).commitments[-1].id


def _planned_activity(world, association):
    from tests.factories import create_plan

    return create_plan(association, commitments=()).planned_activities[-1].id


def _survey_response(world, association):
    from tests.factories import create_survey_response

    return create_survey_response(association)


def _assessment_sheet(world, association):
    """A draft scoring sheet of the association with one item (makers run several times)."""
    from tests.factories import create_assessment_sheet

    return create_assessment_sheet(association, published=False).id


def _assessment_sheet_item(world, association):
    """The first item of the association's latest sheet (the one `sheet_id` just made)."""
    from sqlalchemy import select

    from app.assessments.models import AssessmentSheet, SheetItem

    sheet_id = db.session.scalar(
        select(AssessmentSheet.id)
        .where(AssessmentSheet.association_id == association.id)
        .order_by(AssessmentSheet.id.desc())
    )
    return db.session.scalar(
        select(SheetItem.id).where(SheetItem.sheet_id == sheet_id).order_by(SheetItem.position)
    )


OBJECT_IDS = {
    "member_id": _member,
    "household_id": _household,
    "import_id": _member_import,
    "row_number": lambda world, association: 2,
    "file_id": _stored_file,
    "activity_id": _activity,
    "photo_id": _activity_photo,
    "message_id": _group_message,
    "item_id": _checklist_item,
    "evidence_id": _checklist_evidence,
    "invitation_id": _invitation,
    "child_id": _child_association,
    "membership_id": _membership,
    "event_id": _event,
    "registration_id": _registration,
    "volunteer_id": _volunteer,
    "team_id": _team,
    "shift_id": _shift,
    "task_id": _task,
    "spot_check_id": _spot_check,
    "form_id": _report_form,
    "report_id": _report,
    "entry_id": _spot_check_entry,
    "charge_id": _charge,
    "payment_id": _dues_payment,
    "exemption_id": _dues_exemption,
    "central_household_id": _central_household,
    "request_id": _data_request,
    "move_id": _household_move,
    "commitment_id": _commitment,
    "planned_id": _planned_activity,
    "response_id": _survey_response,
    "sheet_id": _assessment_sheet,
    "sheet_item_id": _assessment_sheet_item,
}
