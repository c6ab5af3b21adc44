"""The association's SMS: this month's count, cost and cap, the latest messages, and
messages to a group of members (群发) with the count and cost shown before sending."""

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.associations import group_sms
from app.associations.group_sms import GROUP_LABELS, Group
from app.core import sms_outbox
from app.core.forms import options
from app.core.sms_outbox import SmsStatus, dispatch
from app.core.views import invalid_form, render, secretary_only
from app.extensions import db

STATUS_LABELS = {
    SmsStatus.QUEUED: _l("Queued"),
    SmsStatus.SENDING: _l("Sending"),
    SmsStatus.SENT: _l("Sent"),
    SmsStatus.FAILED: _l("Failed"),
    SmsStatus.UNCERTAIN: _l("Not confirmed"),
    SmsStatus.CAPPED: _l("Over the monthly cap"),
    SmsStatus.OPTED_OUT: _l("Opted out"),
}


@secretary_only
def sms_usage():
    association_id = g.association.id
    count, cost_fen = sms_outbox.monthly_usage(association_id)
    return render(
        "associations/sms_usage.html",
        count=count,
        cost_fen=cost_fen,
        cap=sms_outbox.monthly_cap(),
        messages=sms_outbox.recent_messages(association_id),
        status_labels=STATUS_LABELS,
    )


class GroupMessageForm(FlaskForm):
    group = SelectField(
        _l("Send to"),
        choices=options([(group.value, label) for group, label in GROUP_LABELS.items()]),
    )
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"rows": 4, "maxlength": 300},
    )
    # Set by the preview's button: the secretary has seen the count and the cost.
    confirmed = HiddenField(default="")


@secretary_only
def group_message():
    association = g.association
    form = GroupMessageForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("associations/group_message.html", form=form, preview=None)
        return render("associations/group_message.html", form=form, preview=None)
    group = Group(form.group.data)
    if form.confirmed.data != "yes":
        form.confirmed.data = "yes"
        estimate = group_sms.preview(association, group)
        return render("associations/group_message.html", form=form, preview=estimate)
    message, rows = group_sms.send(
        association, group, form.body.data.strip(), sent_by_id=current_user.id
    )
    counts = (message.recipients, message.opted_out, message.capped)
    db.session.commit()
    dispatch(*rows)
    flash(
        _(
            "Message queued for %(count)d members (%(opted_out)d opted out, %(capped)d over the "
            "monthly cap).",
            count=counts[0],
            opted_out=counts[1],
            capped=counts[2],
        ),
        "success",
    )
    return redirect(url_for("associations.sms_usage"), 303)
