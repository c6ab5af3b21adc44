"""Who a group message reaches: the groups to choose from, each group's people with a mobile
number (one per number, without those who opted out), the secretaries below by number or
e-mail, and the accounts that also keep the message in their notification centre."""

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.accounts.models import User
from app.accounts.notices import holders_below
from app.associations.group_sms.models import (
    GROUP_LABELS,
    SECRETARIES,
    TARGETED,
    Group,
)
from app.core import crypto
from app.core.clock import china_today, utcnow
from app.core.labels import KIND_LABELS
from app.core.phones import MOBILE
from app.core.sms_outbox.consent import opted_out_phones
from app.dues.models import Charge
from app.events.models import Event, Registration, RegistrationStatus
from app.extensions import db
from app.members.models import Household, Member, MemberStatus
from app.volunteers.models import Team, TeamMember, Volunteer
from tenants.models import Association, AssociationKind, Role


@dataclass(frozen=True)
class Recipient:
    key: str  # "<member id>" (as before), "v<volunteer id>" or "u<user id>"
    name: str
    phone: str
    user_id: int | None = None  # her account: the message is also kept in the app


def choices(association: Association) -> list[tuple[str, str]]:
    """The groups to pick from: "members", "arrears", "event:<id>", "team:<id>",
    "central:<id>" (upcoming events, every team, every central household), and above the
    grassroots "secretaries_below" (also "secretaries_below:<kind>", only the associations of
    one kind, e.g. the villages) and "secretaries_children"."""
    options = [(Group.MEMBERS.value, str(GROUP_LABELS[Group.MEMBERS]))]
    options.append((Group.ARREARS.value, str(GROUP_LABELS[Group.ARREARS])))
    if not association.kind.is_grassroots:
        options.extend((group.value, str(GROUP_LABELS[group])) for group in SECRETARIES)
        below = str(GROUP_LABELS[Group.SECRETARIES_BELOW])
        options.extend(
            (f"{Group.SECRETARIES_BELOW.value}:{kind.value}", f"{below}：{KIND_LABELS[kind]}")
            for kind in AssociationKind
            if kind.level > association.kind.level
        )
    for event_id, title in db.session.execute(
        select(Event.id, Event.title).where(Event.ends_at > utcnow()).order_by(Event.starts_at)
    ):
        options.append((f"event:{event_id}", f"{GROUP_LABELS[Group.EVENT]}：{title}"))
    for team_id, name in db.session.execute(select(Team.id, Team.name).order_by(Team.name)):
        options.append((f"team:{team_id}", f"{GROUP_LABELS[Group.TEAM]}：{name}"))
    for household_id, address in db.session.execute(
        select(Household.id, Household.address)
        .where(Household.is_central.is_(True))
        .order_by(Household.address)
    ):
        options.append((f"central:{household_id}", f"{GROUP_LABELS[Group.CENTRAL]}：{address}"))
    return options


def parse_choice(value: str) -> tuple[Group, int | None, AssociationKind | None]:
    """(group, target id, kind of association): ("event", 12, None) from "event:12",
    ("secretaries_below", None, "village") from "secretaries_below:village"; ValueError for
    anything else."""
    name, _sep, target = value.partition(":")
    group = Group(name)
    if group in TARGETED:
        return group, int(target), None
    if group == Group.SECRETARIES_BELOW and target:
        return group, None, AssociationKind(target)
    if target:
        raise ValueError(value)
    return group, None, None


def label_of(association: Association, value: str) -> str:
    return dict(choices(association)).get(value, "")


def _member_rows(query) -> list[Recipient]:
    return [
        Recipient(str(member_id), name, crypto.decrypt(encrypted), user_id)
        for member_id, name, encrypted, user_id in db.session.execute(query)
        if encrypted
    ]


def _members(group: Group, target_id: int | None) -> list[Recipient]:
    query = select(Member.id, Member.name, Member.phone_encrypted, Member.user_id).where(
        Member.status == MemberStatus.ACTIVE, Member.phone_encrypted.is_not(None)
    )
    if group == Group.ARREARS:
        query = query.where(
            Member.id.in_(
                select(Charge.member_id).where(
                    Charge.year == china_today().year,
                    Charge.exempt.is_(False),
                    Charge.paid_fen < Charge.amount_due_fen,
                )
            )
        )
    elif group == Group.CENTRAL:
        households = select(Household.id).where(
            or_(Household.id == target_id, Household.central_household_id == target_id)
        )
        query = query.where(Member.household_id.in_(households))
    return _member_rows(query.order_by(Member.id))


def _event_signups(event_id: int) -> list[Recipient]:
    """Confirmed and waitlisted sign-ups: the register's phone of the member who signed up,
    else her login when it is a mobile number (walk-ins without an account have none)."""
    rows = db.session.execute(
        select(
            Registration.user_id, Registration.name, Member.id, Member.phone_encrypted, User.login
        )
        .join(User, User.id == Registration.user_id)
        .outerjoin(Member, Member.user_id == Registration.user_id)
        .where(
            Registration.event_id == event_id,
            Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)),
        )
        .order_by(Registration.id)
    )
    recipients = []
    for user_id, name, member_id, encrypted, login in rows:
        phone = crypto.decrypt(encrypted) if encrypted else None
        if not phone and login and MOBILE.match(login):
            phone = login
        if phone:
            key = str(member_id) if member_id else f"u{user_id}"
            recipients.append(Recipient(key, name, phone, user_id))
    return recipients


def _team(team_id: int) -> list[Recipient]:

    rows = db.session.execute(
        select(
            Volunteer.id,
            Volunteer.name,
            Volunteer.phone_encrypted,
            Member.name,
            Member.phone_encrypted,
            Member.user_id,
        )
        .join(TeamMember, TeamMember.volunteer_id == Volunteer.id)
        .outerjoin(Member, Member.id == Volunteer.member_id)
        .where(TeamMember.team_id == team_id)
        .order_by(Volunteer.id)
    )
    recipients = []
    for volunteer_id, name, own_phone, member_name, member_phone, user_id in rows:
        encrypted = member_phone or own_phone
        if encrypted:
            recipients.append(
                Recipient(
                    f"v{volunteer_id}", member_name or name, crypto.decrypt(encrypted), user_id
                )
            )
    return recipients


def recipients_of(group: Group, target_id: int | None) -> tuple[list[Recipient], int]:
    """Each distinct number to send to (the first person holding it), and how many numbers
    opted out."""
    if group == Group.EVENT:
        found = _event_signups(target_id)
    elif group == Group.TEAM:
        found = _team(target_id)
    else:
        found = _members(group, target_id)
    return _distinct_numbers(found)


def _distinct_numbers(found: list[Recipient]) -> tuple[list[Recipient], int]:
    chosen: dict[str, Recipient] = {}
    for recipient in found:
        chosen.setdefault(recipient.phone, recipient)
    stopped = opted_out_phones(list(chosen))
    kept = [recipient for phone, recipient in chosen.items() if phone not in stopped]
    return kept, len(stopped)


@dataclass(frozen=True)
class Audience:
    """Whom a group message reaches: numbers to text, secretaries to e-mail, and the accounts
    that also keep it in their notification centre."""

    texted: list[Recipient]
    opted_out: int
    emailed: list[User]
    account_ids: list[int]


def audience(
    association: Association,
    group: Group,
    target_id: int | None,
    kind: AssociationKind | None = None,
) -> Audience:
    if group not in SECRETARIES:
        texted, opted_out = recipients_of(group, target_id)
        accounts = dict.fromkeys(r.user_id for r in texted if r.user_id is not None)
        return Audience(texted, opted_out, [], list(accounts))
    found, emailed = [], []
    holders = holders_below(
        association,
        (Role.SECRETARY,),
        children_only=group == Group.SECRETARIES_CHILDREN,
        kind=kind,
    )
    for user, _association_id in holders:
        if MOBILE.match(user.login):
            found.append(Recipient(f"u{user.id}", user.name, user.login, user.id))
        elif "@" in user.login:
            emailed.append(user)
    texted, opted_out = _distinct_numbers(found)
    return Audience(texted, opted_out, emailed, [user.id for user, _id in holders])
