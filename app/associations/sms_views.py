"""The association's SMS this month: how many, what they cost, the cap, and the latest."""

from flask import g
from flask_babel import lazy_gettext as _l

from app.core import sms_outbox
from app.core.sms_outbox import SmsStatus
from app.core.views import render, secretary_only

STATUS_LABELS = {
    SmsStatus.QUEUED: _l("Queued"),
    SmsStatus.SENDING: _l("Sending"),
    SmsStatus.SENT: _l("Sent"),
    SmsStatus.FAILED: _l("Failed"),
    SmsStatus.UNCERTAIN: _l("Not confirmed"),
    SmsStatus.CAPPED: _l("Over the monthly cap"),
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
