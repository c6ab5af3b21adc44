"""URL map of an association's own pages: home, people and invitations, settings, the
associations below it (set-up, invitations, bulk import), audit log."""

from flask import Blueprint

from app.associations import bulk_views, children_views, sms_views, views

bp = Blueprint("associations", __name__, url_prefix="/a/<slug>")
bp.add_url_rule("/", "home", views.home)
bp.add_url_rule("/people", "people", views.people)
bp.add_url_rule("/people/invite", "invite", views.invite, methods=["POST"])
bp.add_url_rule(
    "/people/invitations/<int:invitation_id>/revoke",
    "revoke_invitation",
    views.revoke_invitation,
    methods=["POST"],
)
bp.add_url_rule("/audit", "audit_log", views.audit_log)
bp.add_url_rule("/sms", "sms_usage", sms_views.sms_usage)
bp.add_url_rule("/sms/group", "group_message", sms_views.group_message, methods=["GET", "POST"])
bp.add_url_rule(
    "/sms/group/<int:message_id>/cancel",
    "cancel_group_message",
    sms_views.cancel_group_message,
    methods=["POST"],
)
bp.add_url_rule("/sms/consents", "record_consent", sms_views.record_consent, methods=["POST"])
bp.add_url_rule(
    "/sms/group/<int:message_id>", "group_message_status", sms_views.group_message_status
)
bp.add_url_rule("/settings", "settings", views.settings)
bp.add_url_rule("/settings", "update_settings", views.update_settings, methods=["POST"])
bp.add_url_rule(
    "/settings/population", "record_population", views.record_population, methods=["POST"]
)
bp.add_url_rule("/settings/logo", "upload_logo", views.upload_logo, methods=["POST"])
for action in ("change_role", "remove_person", "disable_person", "enable_person"):
    bp.add_url_rule(
        f"/people/<int:membership_id>/{action.split('_')[0]}",
        action,
        getattr(views, action),
        methods=["POST"],
    )

bp.add_url_rule(
    "/people/<int:membership_id>/reset-second-factor",
    "reset_second_factor",
    views.reset_second_factor,
    methods=["POST"],
)
bp.add_url_rule("/children", "children", children_views.children)
bp.add_url_rule("/children", "create_child", children_views.create_child, methods=["POST"])
bp.add_url_rule("/children/<int:child_id>", "child", children_views.child)
bp.add_url_rule(
    "/children/<int:child_id>/invite",
    "invite_child_secretary",
    children_views.invite_child_secretary,
    methods=["POST"],
)
bp.add_url_rule(
    "/children/<int:child_id>/invitation/resend",
    "resend_child_invitation",
    children_views.resend_child_invitation,
    methods=["POST"],
)
bp.add_url_rule(
    "/children/<int:child_id>/invitation/revoke",
    "revoke_child_invitation",
    children_views.revoke_child_invitation,
    methods=["POST"],
)
bp.add_url_rule("/children/import", "bulk_upload", bulk_views.bulk_upload)
bp.add_url_rule("/children/import", "bulk_check", bulk_views.bulk_check, methods=["POST"])
bp.add_url_rule(
    "/children/import/confirm", "bulk_confirm", bulk_views.bulk_confirm, methods=["POST"]
)
bp.add_url_rule("/children/import/cancel", "bulk_cancel", bulk_views.bulk_cancel, methods=["POST"])
bp.add_url_rule("/children/import/layout", "bulk_layout", bulk_views.bulk_layout, methods=["POST"])
