"""URL maps of the member register (/a/<slug>/members) and households (/a/<slug>/households)."""

from flask import Blueprint

from app.accounts.blueprint import bp as accounts_bp
from app.core.i18n import translated
from app.core.replica import reads_from_replica
from app.members import (
    cli,
    household_views,
    import_views,
    move_views,
    personal_data_views,
    phone_views,
    views,
)
from app.members.labels import (
    DATA_REQUEST_STATUS_LABELS,
    GENDER_LABELS,
    IMPORT_STATUS_LABELS,
    MOVE_STATUS_LABELS,
    STATUS_LABELS,
)

bp = Blueprint("members", __name__, url_prefix="/a/<slug>/members")
bp.cli.add_command(cli.import_command)  # flask members import FILE --association SLUG
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/new", "new", views.new, methods=["GET", "POST"])
bp.add_url_rule("/<int:member_id>", "show", views.show)
bp.add_url_rule("/<int:member_id>/edit", "edit", views.edit, methods=["GET", "POST"])
bp.add_url_rule("/<int:member_id>/reveal", "reveal", views.reveal, methods=["POST"])
bp.add_url_rule("/<int:member_id>/delete", "delete", views.delete, methods=["POST"])
bp.add_url_rule("/deleted", "recently_deleted", views.recently_deleted)
bp.add_url_rule("/<int:member_id>/restore", "restore", views.restore, methods=["POST"])
bp.add_url_rule("/export", "export", reads_from_replica(views.export))
bp.add_url_rule("/me", "me", views.me, methods=["GET", "POST"])
bp.add_url_rule("/me/data", "my_data", personal_data_views.my_data)
bp.add_url_rule("/me/data.xlsx", "my_data_download", personal_data_views.my_data_download)
bp.add_url_rule(
    "/me/data/delete", "request_deletion", personal_data_views.request_deletion, methods=["POST"]
)
bp.add_url_rule("/me/move", "request_move", move_views.request_move, methods=["POST"])
bp.add_url_rule("/moves", "moves", move_views.list_moves)
bp.add_url_rule(
    "/moves/<int:move_id>/approve", "approve_move", move_views.approve_move, methods=["POST"]
)
bp.add_url_rule(
    "/moves/<int:move_id>/decline", "decline_move", move_views.decline_move, methods=["POST"]
)
bp.add_url_rule("/data-requests", "data_requests", personal_data_views.data_requests)
bp.add_url_rule(
    "/data-requests/<int:request_id>",
    "decide_data_request",
    personal_data_views.decide_data_request,
    methods=["POST"],
)
bp.add_url_rule("/import", "import_upload", import_views.import_upload, methods=["GET", "POST"])
bp.add_url_rule("/imports/<int:import_id>", "import_show", import_views.import_show)
bp.add_url_rule(
    "/imports/<int:import_id>/mapping",
    "import_mapping",
    import_views.import_mapping,
    methods=["POST"],
)
bp.add_url_rule(
    "/imports/<int:import_id>/rows/<int:row_number>",
    "import_row",
    import_views.import_row,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/imports/<int:import_id>/layout", "import_layout", import_views.import_layout, methods=["POST"]
)
bp.add_url_rule(
    "/imports/<int:import_id>/fix-genders",
    "import_fix_genders",
    import_views.import_fix_genders,
    methods=["POST"],
)
bp.add_url_rule(
    "/imports/<int:import_id>/skip-problems",
    "import_skip_problems",
    import_views.import_skip_problems,
    methods=["POST"],
)
bp.add_url_rule(
    "/imports/<int:import_id>/problems.xlsx", "import_problems", import_views.import_problems
)
bp.add_url_rule(
    "/imports/<int:import_id>/confirm",
    "import_confirm",
    import_views.import_confirm,
    methods=["POST"],
)
bp.add_url_rule(
    "/imports/<int:import_id>/retry", "import_retry", import_views.import_retry, methods=["POST"]
)
bp.add_url_rule(
    "/imports/<int:import_id>/cancel", "import_cancel", import_views.import_cancel, methods=["POST"]
)

households_bp = Blueprint("households", __name__, url_prefix="/a/<slug>/households")
households_bp.add_url_rule("/", "index", household_views.household_list)
households_bp.add_url_rule("/new", "new", household_views.household_new, methods=["GET", "POST"])
households_bp.add_url_rule(
    "/settings", "settings", household_views.settings, methods=["GET", "POST"]
)
households_bp.add_url_rule("/<int:household_id>", "show", household_views.household_show)
households_bp.add_url_rule(
    "/<int:household_id>/restore", "restore", household_views.household_restore, methods=["POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/edit", "edit", household_views.household_edit, methods=["GET", "POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/central", "central", household_views.household_central, methods=["POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/link", "link", household_views.household_link, methods=["POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/unlink", "unlink", household_views.household_unlink, methods=["POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/visits", "visit", household_views.household_visit, methods=["POST"]
)
households_bp.add_url_rule(
    "/<int:household_id>/delete", "delete", household_views.household_delete, methods=["POST"]
)


REGISTER_HELPERS = {
    "status_label": translated(STATUS_LABELS),
    "gender_label": translated(GENDER_LABELS),
    "import_status_label": translated(IMPORT_STATUS_LABELS),
    "data_request_status_label": translated(DATA_REQUEST_STATUS_LABELS),
    "move_status_label": translated(MOVE_STATUS_LABELS),
}


@bp.app_context_processor
def register_helpers() -> dict:
    """Names the register templates use."""
    return REGISTER_HELPERS


# Signing in by mobile number claims a record of the register, so its pages live here; they
# keep their place among the account pages (/login/phone…, endpoints accounts.*), which this
# package may extend because accounts sits below members.
accounts_bp.add_url_rule(
    "/login/phone", "phone_login", phone_views.phone_login, methods=["GET", "POST"]
)
accounts_bp.add_url_rule(
    "/login/phone/code", "phone_login_code", phone_views.phone_login_code, methods=["GET", "POST"]
)
accounts_bp.add_url_rule(
    "/login/phone/claim", "claim_member", phone_views.claim_member, methods=["GET", "POST"]
)
