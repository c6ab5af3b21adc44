"""Translated names and messages of the registers, shared by forms, views, import and export."""

from flask_babel import lazy_gettext as _l

from app.members.models import (
    DataRequestStatus,
    Gender,
    ImportStatus,
    MemberStatus,
    MoveRequestStatus,
)

STATUS_LABELS = {
    MemberStatus.ACTIVE: _l("Active"),
    MemberStatus.LAPSED: _l("Lapsed"),
    MemberStatus.LEFT: _l("Left"),
    MemberStatus.DECEASED: _l("Deceased"),
}

DATA_REQUEST_STATUS_LABELS = {
    DataRequestStatus.PENDING: _l("Waiting for a decision"),
    DataRequestStatus.CARRIED_OUT: _l("Deleted"),
    DataRequestStatus.REFUSED: _l("Refused"),
}

MOVE_STATUS_LABELS = {
    MoveRequestStatus.PENDING: _l("Waiting for a decision"),
    MoveRequestStatus.APPROVED: _l("Approved"),
    MoveRequestStatus.DECLINED: _l("Declined"),
}

GENDER_LABELS = {Gender.FEMALE: _l("Female"), Gender.MALE: _l("Male")}

IMPORT_STATUS_LABELS = {
    ImportStatus.MAPPING: _l("Check the columns"),
    ImportStatus.VALIDATING: _l("Checking rows"),
    ImportStatus.VALIDATED: _l("Ready to import"),
    ImportStatus.IMPORTING: _l("Importing"),
    ImportStatus.DONE: _l("Imported"),
    ImportStatus.FAILED: _l("Failed"),
    ImportStatus.CANCELLED: _l("Cancelled"),
}

# Field names of the register, as shown in mappings, reports and exports.
FIELD_LABELS = {
    "name": _l("Name"),
    "gender": _l("Gender"),
    "phone": _l("Mobile number"),
    "id_number": _l("ID number"),
    "address": _l("Address"),
    "grid": _l("Grid"),
    "building": _l("Building"),
    "unit": _l("Unit"),
    "joined_on": _l("Joined on"),
    "status": _l("Status"),
    "tags": _l("Tags"),
    "is_central": _l("Central household?"),
    "central_household": _l("Central household it belongs to"),
}
