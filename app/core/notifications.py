"""Outgoing email and SMS through a pluggable backend; the console backend prints them.

Notices to a person (reminders, waitlist places, 整改 and review notices) go through
`notify_person`, which picks her channel: SMS (the outbox of app/core/sms_outbox/: once per
key, quiet hours, cap, opt-out) when she chose it — a consent recorded for her number — or has
no e-mail address, else e-mail. Messages about her account (invitations, password resets) keep
`notify` / `notify_after_commit`, addressed to the login itself.

Features call `notify_email` / `notify_sms`; delivery always happens in a background job, so a
slow gateway never holds up a request. `notify_after_commit` holds a message until the
transaction commits: nothing goes out for a change that was rolled back, and a queue that cannot
take the message loses that message, never the change. Backends: "console" (default, prints),
"memory" (tests read `outbox`). A real SMTP or SMS gateway is one more class with `send(message)`.
"""

import logging
import sys
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.orm import Session

from app.core import inbox
from app.core.jobs import job
from app.core.models import after_transaction
from app.core.phones import MOBILE, normalise_phone
from app.core.sms_outbox.consent import has_consent
from app.core.sms_outbox.queueing import queue_sms
from app.core.sms_views import opt_out_link
from app.extensions import db

log = logging.getLogger("xiehui.notifications")


@dataclass(frozen=True)
class Message:
    channel: str  # "email" or "sms"
    to: str
    subject: str
    body: str


def mask_recipient(to: str) -> str:
    """Keep notification logs free of full phone numbers and mailbox names."""
    if "@" in to:
        local, _, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{to[:3]}****{to[-4:]}" if len(to) >= 7 else "****"


class ConsoleBackend:
    def send(self, message: Message) -> None:
        print(
            f"\n--- {message.channel} to {mask_recipient(message.to)}: {message.subject}\n"
            f"{message.body}\n---",
            file=sys.stderr,
        )


@dataclass
class MemoryBackend:
    outbox: list[Message] = field(default_factory=list)

    def send(self, message: Message) -> None:
        self.outbox.append(message)


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend}


def backend():
    return current_app.extensions["notifications"]


@job
def deliver(channel: str, to: str, subject: str, body: str) -> None:
    message = Message(channel, to, subject, body)
    backend().send(message)
    log.info("sent %s to %s: %s", channel, mask_recipient(to), subject)


def notify_email(to: str, subject: str, body: str) -> None:
    deliver("email", to, subject, body)


def notify_sms(to: str, body: str) -> None:
    deliver("sms", to, "", body)


def notify(login: str, subject: str, body: str) -> None:
    """Send to a login, which is either an email address or a mobile number."""
    if "@" in login:
        notify_email(login, subject, body)
    else:
        notify_sms(login, f"{subject}: {body}")


PENDING = "notifications_after_commit"


def notify_after_commit(login: str, subject: str, body: str) -> None:
    """`notify` once the current transaction commits; dropped if it rolls back."""
    _install_session_hooks()
    db.session.info.setdefault(PENDING, []).append((login, subject, body))


def _send_pending(session: Session) -> None:
    for login, subject, body in session.info.pop(PENDING, []):
        try:
            notify(login, subject, body)
        except Exception as error:  # the change is committed; only this message is lost
            log.error(
                "could not queue %s for %s: %s",
                subject,
                mask_recipient(login),
                type(error).__name__,
            )


def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _install_session_hooks() -> None:
    after_transaction(
        db.session.session_factory.class_, committed=_send_pending, rolled_back=_drop_pending
    )


def init_app(app) -> None:
    app.extensions["notifications"] = BACKENDS[app.config["NOTIFICATION_BACKEND"]]()


@dataclass(frozen=True)
class Person:
    """Whom a notice is for: her login (an e-mail address or a mobile number) if she has one,
    the register's phone otherwise, and the association sending it."""

    login: str | None = None
    phone: str | None = None
    association_id: int | None = None
    user_id: int | None = None  # her account, when she has one: the notice is kept there too


def channel_for(person: Person) -> tuple[str, str] | None:
    """("sms", phone) or ("email", address) — or None when she cannot be reached.

    A mobile login is her own choice of channel. A register phone is used only with her
    consent recorded (`sms_outbox.consent`), and then also instead of an e-mail address
    (she chose SMS). Opting out is honoured later, by the outbox (status "opted_out")."""
    login = (person.login or "").strip()
    email = login if "@" in login else None
    login_phone = normalise_phone(login) if login and not email else None
    if login_phone and not MOBILE.match(login_phone):
        login_phone = None
    phone = login_phone or (normalise_phone(person.phone) if person.phone else None)
    if phone and not MOBILE.match(phone):
        phone = None
    consented = bool(phone) and has_consent(person.association_id, phone)
    if phone and (consented or (login_phone and not email)):
        return "sms", phone
    if email:
        return "email", email
    return None


def notify_person(person: Person, subject: str, body: str, *, key: str) -> str | None:
    """Send a notice by the person's channel; returns "sms", "email" or None (unreachable).
    A person with an account (`user_id`) also finds it in her notification centre.

    By SMS it is an outbox row under `key` (the same key again sends nothing new), written in
    the caller's transaction and sent by the outbox job once committed (`send_due_sms`, every
    minute; held in the quiet hours), with the opt-out link. By e-mail it leaves after the
    commit (`notify_after_commit`)."""
    if person.user_id is not None:
        inbox.keep(person.user_id, subject, body, key=key, association_id=person.association_id)
    channel = channel_for(person)
    if channel is None:
        log.info("no channel for a notice: %s", key)
        return None
    kind, to = channel
    if kind == "email":
        notify_after_commit(to, subject, body)
        return kind
    text = f"{subject}：{body} {opt_out_link(to)}"
    queue_sms(
        f"notice:{key}"[:120],
        to,
        "notice",
        {"subject": subject, "content": body},
        text=text,
        association_id=person.association_id,
        notice=True,
    )
    return kind
