"""My account → Sessions: the browsers signed in as me, and ending any of them."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.accounts import services, session_records
from app.accounts.session import current_record, end_session
from app.accounts.session_records import EndReason
from app.core.views import render


@login_required
def sessions():
    this_one = current_record()
    records = session_records.sessions_of(current_user)
    rows = [
        {
            "record": record,
            "browser": session_records.describe_user_agent(record.user_agent),
            "this_device": this_one is not None and record.id == this_one.id,
        }
        for record in records
    ]
    return render("accounts/sessions.html", rows=rows, others=len(rows) - 1)


@login_required
def end_one(record_id: str):
    """End one of my own sessions; anyone else's session id is not found (404)."""
    record = session_records.own_session(current_user, record_id)
    if record is None:
        abort(404)
    this_one = current_record()
    if this_one is not None and record.id == this_one.id:
        end_session()
        flash(_("You have signed out."), "info")
        return redirect(url_for("accounts.login"), 303)
    session_records.end(record, EndReason.ENDED_BY_USER)
    flash(_("That session has been signed out."), "success")
    return redirect(url_for("accounts.sessions"), 303)


@login_required
def end_others():
    ended = services.end_all_sessions(
        current_user, reason=EndReason.ENDED_BY_USER, keep=current_record().id
    )
    flash(
        ngettext(
            "%(num)d other session has been signed out.",
            "%(num)d other sessions have been signed out.",
            ended,
        ),
        "success",
    )
    return redirect(url_for("accounts.sessions"), 303)


@login_required
def end_everywhere():
    services.end_all_sessions(
        current_user, reason=EndReason.ENDED_BY_USER, keep=current_record().id
    )
    end_session(EndReason.ENDED_BY_USER)
    flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("accounts.login"), 303)
