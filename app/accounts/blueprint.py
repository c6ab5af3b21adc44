"""URL map of sign-in, passwords, invitations and the language switch."""

from flask import Blueprint

from app.accounts import notification_views, second_factor_views, session_views, views

bp = Blueprint("accounts", __name__)
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/login", "login", views.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", views.logout, methods=["POST"])
bp.add_url_rule("/associations", "choose_association", views.choose_association)
bp.add_url_rule(
    "/password/forgot", "forgot_password", views.forgot_password, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/password/reset/<token>", "reset_password", views.reset_password, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/password/change", "change_password", views.change_password, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/invite/<token>", "accept_invitation", views.accept_invitation, methods=["GET", "POST"]
)
bp.add_url_rule("/locale", "set_locale", views.set_locale, methods=["POST"])
bp.add_url_rule("/account/sessions", "sessions", session_views.sessions)
bp.add_url_rule("/notifications", "notifications", notification_views.notifications)
bp.add_url_rule(
    "/notifications/<int:notification_id>/read",
    "mark_notification_read",
    notification_views.mark_read,
    methods=["POST"],
)
bp.add_url_rule(
    "/notifications/read-all",
    "mark_all_notifications_read",
    notification_views.mark_all_read,
    methods=["POST"],
)
bp.add_url_rule(
    "/account/sessions/<record_id>/end", "end_session", session_views.end_one, methods=["POST"]
)
bp.add_url_rule(
    "/account/sessions/end-others", "end_other_sessions", session_views.end_others, methods=["POST"]
)
bp.add_url_rule(
    "/account/sessions/end-all", "end_all_sessions", session_views.end_everywhere, methods=["POST"]
)
bp.add_url_rule(
    "/login/code", "sign_in_code", second_factor_views.sign_in_code, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/account/second-factor", "manage_second_factor", second_factor_views.manage_second_factor
)
bp.add_url_rule(
    "/account/second-factor/enrol",
    "enrol_second_factor",
    second_factor_views.enrol_second_factor,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/account/second-factor/disable",
    "disable_second_factor",
    second_factor_views.disable_second_factor,
    methods=["POST"],
)
bp.add_url_rule(
    "/account/second-factor/recovery-codes",
    "renew_recovery_codes",
    second_factor_views.renew_recovery_codes,
    methods=["POST"],
)
bp.add_url_rule(
    "/account/second-factor/recovery-codes.txt",
    "download_recovery_codes",
    second_factor_views.download_recovery_codes,
    methods=["POST"],
)
# Runs for every request of the app, after the session checks of app/accounts/session.py.
bp.before_app_request(second_factor_views.require_enrolment)
