"""My account → Notifications: the notices I was sent, newest first; marking them read."""

from flask import abort, redirect, request, url_for
from flask_login import current_user, login_required

from app.core import inbox
from app.core.views import render


@login_required
def notifications():
    page = inbox.page_for(current_user.id, request.args.get("page", 1, type=int))
    return render("accounts/notifications.html", page=page)


@login_required
def mark_read(notification_id: int):
    """Mark one of my own notices read; anyone else's id is not found (404)."""
    if not inbox.mark_read(current_user.id, notification_id):
        abort(404)
    return redirect(url_for("accounts.notifications", page=request.form.get("page", 1)), 303)


@login_required
def mark_all_read():
    inbox.mark_all_read(current_user.id)
    return redirect(url_for("accounts.notifications"), 303)
