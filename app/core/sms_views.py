"""What comes back over the SMS channel: the provider's delivery reports and replies (a reply
of 退订 / TD opts the number out of notices), and the opt-out link in notices.

Alibaba Cloud pushes reports (SmsReport) and replies (SmsUp) as JSON arrays by HTTP POST to
the URLs set in its console, unsigned; the URL therefore carries a secret
(ALIYUN_SMS_CALLBACK_TOKEN), compared in constant time. Without that setting the callbacks
answer 404. The provider expects {"code": 0, "msg": "成功"} back, or it retries.
"""

import hmac
import os
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer

from app.core import audit, crypto
from app.core.clock import CHINA, china_now
from app.core.sms_outbox.consent import opt_out
from app.core.sms_outbox.queueing import record_delivery_report
from app.core.urls import absolute_url
from app.core.views import render
from app.extensions import csrf, db, limiter

bp = Blueprint("sms", __name__)
callbacks = Blueprint("sms_callbacks", __name__)
csrf.exempt(callbacks)  # authenticated by the secret in the URL instead

OPT_OUT_WORDS = frozenset({"退订", "td", "t", "n", "取消", "退"})


def _check_token(token: str) -> None:
    expected = current_app.config.get("ALIYUN_SMS_CALLBACK_TOKEN") or os.environ.get(
        "ALIYUN_SMS_CALLBACK_TOKEN", ""
    )
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(404)


def _entries() -> list[dict]:
    body = request.get_json(silent=True)
    if not isinstance(body, list) or not all(isinstance(entry, dict) for entry in body):
        abort(400)
    return body


def _china_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except (TypeError, ValueError):
        return china_now()


def _accepted():
    db.session.commit()
    return jsonify({"code": 0, "msg": "成功"})


@limiter.limit("600 per minute")
def receive_reports(token: str):
    _check_token(token)
    for entry in _entries():
        record_delivery_report(
            str(entry.get("out_id") or ""),
            delivered=entry.get("success") in (True, "true"),
            error=str(entry.get("err_code") or ""),
            at=_china_time(entry.get("report_time")),
        )
    return _accepted()


@limiter.limit("600 per minute")
def receive_replies(token: str):
    _check_token(token)
    for entry in _entries():
        words = str(entry.get("content") or "").strip().lower()
        phone = str(entry.get("phone_number") or "")
        opted = (
            words in OPT_OUT_WORDS and phone and opt_out(crypto.lookup_hash(phone), source="reply")
        )
        if opted:
            audit.record("sms_opt_out", source="reply")
    return _accepted()


# ---- the opt-out link in notices -----------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="sms-opt-out")


def opt_out_link(phone: str) -> str:
    """The link a notice carries: it names the number's keyed hash, signed."""
    token = _serializer().dumps(crypto.lookup_hash(phone))
    return absolute_url("sms.opt_out_page", token=token)


class OptOutForm(FlaskForm):
    """Only the CSRF token: opening the link changes nothing, the button does."""


def opt_out_page(token: str):
    try:
        phone_hash = _serializer().loads(token)
    except BadSignature:
        abort(404)
    form = OptOutForm()
    if form.validate_on_submit():
        if opt_out(phone_hash, source="link"):
            audit.record("sms_opt_out", source="link")
        flash(_("You will receive no more notices by SMS."), "success")
        return redirect(url_for("sms.opt_out_page", token=token), 303)
    return render("sms/opt_out.html", form=form)


bp.add_url_rule("/sms/stop/<token>", "opt_out_page", opt_out_page, methods=["GET", "POST"])
callbacks.add_url_rule(
    "/sms/aliyun/<token>/report", "receive_reports", receive_reports, methods=["POST"]
)
callbacks.add_url_rule(
    "/sms/aliyun/<token>/replies", "receive_replies", receive_replies, methods=["POST"]
)
