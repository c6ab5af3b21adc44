"""Dues reminders, sent by a scheduled job: once before the due date and once after it, for
every open charge of a member who can be reached (a login, or the register's phone with her
consent to SMS notices); each (charge, stage) at most once."""

import os
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.core import crypto
from app.core.jobs import periodic
from app.core.money import yuan_text
from app.core.notifications import Person, channel_for, notify_person
from app.dues.models import Charge, DuesPlan, Reminder, ReminderStage
from app.dues.services import today
from app.extensions import db
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association

# The "before" reminder goes out in the last two weeks before the due date.
BEFORE_DUE_WINDOW = timedelta(days=14)


def stage_on(plan: DuesPlan, on: date) -> ReminderStage | None:
    if on > plan.due_on:
        return ReminderStage.AFTER_DUE
    if on >= plan.due_on - BEFORE_DUE_WINDOW:
        return ReminderStage.BEFORE_DUE
    return None


def _base_url() -> str:
    return current_app.config.get("BASE_URL") or os.environ.get(
        "XIEHUI_BASE_URL", "http://localhost:5000"
    )


def _pay_link(association: Association) -> str:
    with current_app.test_request_context(base_url=_base_url()):
        return url_for("dues.my", slug=association.slug, _external=True)


def _message(stage: ReminderStage, association: Association, plan: DuesPlan, open_fen: int):
    amount = yuan_text(open_fen)
    due = plan.due_on.strftime("%Y-%m-%d")
    link = _pay_link(association)
    with force_locale("zh_Hans_CN"):
        if stage == ReminderStage.BEFORE_DUE:
            subject = _("Dues for %(year)d are due on %(due)s", year=plan.year, due=due)
            body = _(
                "%(association)s: your dues for %(year)d (%(amount)s still open) are due on "
                "%(due)s. See and pay them here after signing in: %(link)s",
                association=association.name,
                year=plan.year,
                amount=amount,
                due=due,
                link=link,
            )
        else:
            subject = _("Dues for %(year)d are overdue", year=plan.year)
            body = _(
                "%(association)s: your dues for %(year)d were due on %(due)s and %(amount)s is "
                "still open. See and pay them here after signing in: %(link)s",
                association=association.name,
                year=plan.year,
                amount=amount,
                due=due,
                link=link,
            )
    return subject, body


def send_reminders_for(association: Association, *, on: date) -> int:
    """Reminders of one association due today, each by the member's channel (her login's
    e-mail or phone, else the register's phone with her consent: `notify_person`). The
    reminder row and an SMS go in one commit, an e-mail right after it, so a second run (or a
    concurrent one, refused by the unique key) never sends the same reminder again."""
    sent = 0
    with tenant_context(scope_for(association, writable=True)):
        for plan in db.session.scalars(select(DuesPlan)):
            stage = stage_on(plan, on)
            if stage is None:
                continue
            already = select(Reminder.charge_id).where(Reminder.stage == stage)
            rows = db.session.execute(
                select(Charge, Member.phone_encrypted, User.login, User.id)
                .join(Member, Member.id == Charge.member_id)
                .outerjoin(User, User.id == Member.user_id)
                .where(
                    Charge.year == plan.year,
                    Charge.exempt.is_(False),
                    Charge.paid_fen < Charge.amount_due_fen,
                    Charge.id.not_in(already),
                    User.disabled_at.is_(None),
                )
            ).all()
            for charge, phone_encrypted, login, user_id in rows:
                person = Person(
                    login=login,
                    phone=crypto.decrypt(phone_encrypted) if phone_encrypted else None,
                    association_id=association.id,
                    user_id=user_id,
                )
                if channel_for(person) is None:
                    continue  # no login, no consented phone: nothing to record either
                try:
                    with db.session.begin_nested():
                        db.session.add(Reminder(charge_id=charge.id, stage=stage))
                except IntegrityError:
                    continue
                subject, body = _message(stage, association, plan, charge.open_fen)
                notify_person(person, subject, body, key=f"dues:{charge.id}:{stage.value}")
                sent += 1
        db.session.commit()
    return sent


@periodic(minute="0", hour="9")
def send_dues_reminders(on: date | None = None) -> int:
    """Every morning (Beijing time on a server set to it): the day's dues reminders."""
    on = on or today()
    with UNSCOPED_BYPASS("the reminder job finds the associations that hold a dues plan"):
        association_ids = list(db.session.scalars(select(DuesPlan.association_id).distinct()))
    sent = 0
    for association in db.session.scalars(
        select(Association).where(Association.id.in_(association_ids))
    ):
        if association.suspended_at is None:
            sent += send_reminders_for(association, on=on)
    return sent
