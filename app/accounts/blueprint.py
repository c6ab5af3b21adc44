"""URL map of sign-in, passwords, invitations and the language switch."""

from flask import Blueprint

from app.accounts import views

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
