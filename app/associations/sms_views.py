"""The association's SMS: this month's count, cost and cap, the latest messages, and
messages to a group of members (群发) with the count and cost shown before sending."""

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.associations.group_sms import sending
from app.associations.group_sms.models import (
    GROUP_LABELS,
    SECRETARIES,
    GroupMessage,
    GroupMessageStatus,
)
from app.associations.group_sms.recipients import choices, label_of, parse_choice
from app.associations.group_sms.states import recipient_states, secretary_states
from app.core import audit
from app.core.clock import china_today, utcnow
from app.core.forms import SensibleDate, options
from app.core.phones import validate_phone
from app.core.problems import Problem, show_problems
from app.core.sms_outbox import consent, queueing
from app.core.sms_outbox.models import ConsentMethod, SmsStatus
from app.core.sms_outbox.sending import dispatch
from app.core.views import invalid_form, render, secretary_only
from app.extensions import db

STATUS_LABELS = {
    SmsStatus.QUEUED: _l("Queued"),
    SmsStatus.CLAIMED: _l("Queued"),  # a worker has it in its next batch
    SmsStatus.SENDING: _l("Sending"),
    SmsStatus.SENT: _l("Sent"),
    SmsStatus.FAILED: _l("Failed"),
    SmsStatus.UNCERTAIN: _l("Not confirmed"),
    SmsStatus.CAPPED: _l("Over the monthly cap"),
    SmsStatus.OPTED_OUT: _l("Opted out"),
}


GROUP_STATUS_LABELS = {
    GroupMessageStatus.SCHEDULED: _l("Scheduled"),
    GroupMessageStatus.SENT: _l("Sent"),
    GroupMessageStatus.CANCELLED: _l("Cancelled"),
}


CONSENT_METHOD_LABELS = {
    ConsentMethod.PAPER_FORM: _l("Signed on the paper form"),
    ConsentMethod.ONLINE_FORM: _l("Ticked on a form herself"),
    ConsentMethod.VERBAL: _l("Said so to the secretary"),
}
CONSENT_PURPOSE = _l(
    "Notices of the association (dues, activities, events, shifts) by SMS; reply TD to stop"
)


class ConsentForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired()])
    method = SelectField(
        _l("How she agreed"),
        choices=options(CONSENT_METHOD_LABELS.items()),
    )
    consented_on = DateField(_l("On"), validators=[DataRequired(), SensibleDate()])

    def validate_phone(self, field) -> None:
        try:
            field.data = validate_phone(field.data or "")
        except ValueError:
            raise ValidationError(_l("Enter an 11-digit mobile number.")) from None


def _usage_page(*, consent_form: ConsentForm | None = None, status: int = 200):
    association_id = g.association.id
    count, cost_fen = queueing.monthly_usage(association_id)
    return render(
        "associations/sms_usage.html",
        status=status,
        count=count,
        cost_fen=cost_fen,
        cap=queueing.monthly_cap(),
        messages=queueing.recent_messages(association_id),
        status_labels=STATUS_LABELS,
        group_messages=sending.recent_group_messages(),
        group_labels=GROUP_LABELS,
        group_statuses=GROUP_STATUS_LABELS,
        consents=consent.consents_of(association_id),
        consent_form=consent_form or ConsentForm(formdata=None, consented_on=china_today()),
        consent_labels=CONSENT_METHOD_LABELS,
        consent_purpose=CONSENT_PURPOSE,
    )


@secretary_only
def sms_usage():
    return _usage_page()


@secretary_only
def record_consent():
    """A resident's consent to notices by SMS, as she gave it (PIPL: when, how, for what)."""
    form = ConsentForm()
    if not form.validate_on_submit():
        return _usage_page(consent_form=form, status=422)
    consent.record_consent(
        g.association.id,
        form.phone.data,
        method=ConsentMethod(form.method.data),
        consented_on=form.consented_on.data,
        purpose=str(CONSENT_PURPOSE),
        recorded_by_id=current_user.id,
    )
    audit.record("sms_consent_recorded", association_id=g.association.id, method=form.method.data)
    flash(_("The consent is recorded."), "success")
    return redirect(url_for("associations.sms_usage", _anchor="consents"), 303)


class GroupMessageForm(FlaskForm):
    group = SelectField(_l("Send to"), choices=[])
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"rows": 4, "maxlength": 300},
    )
    when = RadioField(
        _l("When"),
        choices=options([("now", _l("Send now")), ("later", _l("At a time (China time)"))]),
        default="now",
    )
    send_on = DateField(_l("Day"), validators=[Optional()])
    send_at = TimeField(_l("Time"), validators=[Optional()])
    # Set by the preview's button: the secretary has seen the count and the cost.
    confirmed = HiddenField(default="")


def _group_form() -> GroupMessageForm:
    form = GroupMessageForm()
    form.group.choices = options(choices(g.association))
    return form


@secretary_only
def group_message():
    association = g.association
    form = _group_form()
    page = "associations/group_message.html"
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form(page, form=form, preview=None)
        return render(page, form=form, preview=None)
    group, target_id, kind = parse_choice(form.group.data)
    send_at = None
    if form.when.data == "later":
        try:
            send_at = sending.schedule_time(form.send_on.data, form.send_at.data, now=utcnow())
        except Problem as problem:
            show_problems(form, problem)
            form.confirmed.data = ""
            return invalid_form(page, form=form, preview=None)
    if form.confirmed.data != "yes":
        form.confirmed.data = "yes"
        estimate = sending.preview(association, group, target_id, kind=kind)
        return render(page, form=form, preview=estimate, send_at=send_at)
    message, rows = sending.send(
        association,
        group,
        form.body.data.strip(),
        sent_by_id=current_user.id,
        target_id=target_id,
        target_label=label_of(association, form.group.data),
        send_at=send_at,
        kind=kind,
    )
    counts = (message.id, message.recipients, message.opted_out, message.capped)
    db.session.commit()
    if send_at is not None:
        flash(_("The message is scheduled."), "success")
    else:
        dispatch(*rows)
        flash(
            _(
                "Message queued for %(count)d recipients (%(opted_out)d opted out, %(capped)d "
                "over the monthly cap).",
                count=counts[1],
                opted_out=counts[2],
                capped=counts[3],
            ),
            "success",
        )
    return redirect(url_for("associations.group_message_status", message_id=counts[0]), 303)


def _own_group_message(message_id: int) -> GroupMessage:
    message = db.session.scalar(select(GroupMessage).where(GroupMessage.id == message_id))
    if message is None:
        abort(404)
    return message


@secretary_only
def group_message_status(message_id: int):
    """Each recipient of one group message and where her message stands; a scheduled one
    says when it goes and can be cancelled."""
    message = _own_group_message(message_id)
    to_secretaries = message.group in SECRETARIES
    if message.status != GroupMessageStatus.SENT:
        recipients = []
    elif to_secretaries:
        recipients = secretary_states(message)
    else:
        recipients = recipient_states(message)
    return render(
        "associations/group_message_status.html",
        message=message,
        group_label=GROUP_LABELS[message.group],
        recipients=recipients,
        to_secretaries=to_secretaries,
        status_labels=STATUS_LABELS,
        cancel_form=FlaskForm(),
    )


@secretary_only
def cancel_group_message(message_id: int):
    message = _own_group_message(message_id)
    if sending.cancel(message):
        flash(_("The scheduled message is cancelled; it will not be sent."), "success")
    else:
        flash(_("This message is no longer scheduled: it has been sent or cancelled."), "warning")
    return redirect(url_for("associations.group_message_status", message_id=message_id), 303)
