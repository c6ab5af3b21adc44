"""Translated names for the audit log's action codes, record types and outcomes.

The log stores stable English codes; the page shows these names, and a code without a name
(one added later) is shown as it is rather than hidden."""

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "add_target": _l("Target added"),
    "set_targets": _l("Targets set"),
    "create_association": _l("Association created"),
    "update_association": _l("Association changed"),
    "delete_association": _l("Association deleted"),
    "move_association": _l("Association moved"),
    "suspend_subtree": _l("Suspended"),
    "unsuspend_subtree": _l("Suspension lifted"),
    "import_associations": _l("Associations imported"),
    "denied": _l("Access refused"),
    "disable_user": _l("Login disabled"),
    "enable_user": _l("Login enabled"),
    "dues.payment_voided": _l("Payment voided"),
    "export": _l("Exported"),
    "assessment_sheet_published": _l("Scoring sheet published"),
    "assessment_reopened": _l("Assessment reopened"),
    "model_association_withdrawn": _l("Model association withdrawn"),
    "export_own_data": _l("Own data downloaded"),
    "import": _l("Members imported"),
    "household_move_requested": _l("Household move requested"),
    "household_move_approved": _l("Household move approved"),
    "household_move_declined": _l("Household move declined"),
    "invitation_accepted": _l("Invitation accepted"),
    "invitation_refused": _l("Invitation refused"),
    "login": _l("Sign-in"),
    "login_failed": _l("Sign-in failed"),
    "session_ended": _l("Signed out"),
    "member_claimed": _l("Member record linked to a login"),
    "password_accepted": _l("Password accepted"),
    "password_changed": _l("Password changed"),
    "password_reset_refused": _l("Password reset refused"),
    "personal_data_deleted": _l("Personal data deleted"),
    "member_deleted": _l("Member deleted (restorable for 30 days)"),
    "member_restored": _l("Deleted member restored"),
    "household_deleted": _l("Household deleted (restorable for 30 days)"),
    "household_restored": _l("Deleted household restored"),
    "print_report": _l("Report printed"),
    "reveal": _l("ID number revealed"),
    "view_person": _l("Person viewed"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_renewed": _l("Recovery codes renewed"),
    "second_factor_enrolled": _l("Second factor set up"),
    "second_factor_disabled": _l("Second factor turned off"),
    "second_factor_failed": _l("Wrong second-factor code"),
    "second_factor_reset": _l("Second factor reset"),
    "sms_code_requested": _l("SMS code requested"),
    "sms_code_failed": _l("Wrong SMS code"),
    "sms_code_refused": _l("SMS code refused"),
    "sms_opt_out": _l("Opted out of SMS notices"),
    "group_message_sent": _l("Group SMS sent"),
    "group_message_scheduled": _l("Group SMS scheduled"),
    "group_message_cancelled": _l("Scheduled group SMS cancelled"),
    "sms_consent_recorded": _l("Consent to SMS notices recorded"),
}

RECORD_LABELS = {
    "Activity": _l("Activity"),
    "ActivityParticipant": _l("Activity participant"),
    "ActivityPhoto": _l("Activity photo"),
    "Checklist": _l("七有 checklist"),
    "ChecklistEvidence": _l("七有 evidence"),
    "ChecklistItem": _l("七有 item"),
    "Event": _l("Event"),
    "Registration": _l("Event registration"),
    "Household": _l("Household"),
    "HouseholdMoveRequest": _l("Household move request"),
    "Member": _l("Member"),
    "MemberImport": _l("Member import"),
    "Membership": _l("Role"),
    "Invitation": _l("Invitation"),
    "Payment": _l("Payment"),
    "Charge": _l("Dues charge"),
    "DuesPlan": _l("Dues plan"),
    "Exemption": _l("Dues exemption"),
    "Shift": _l("Volunteer shift"),
    "Volunteer": _l("Volunteer"),
    "Team": _l("Volunteer team"),
    "Assignment": _l("Shift assignment"),
    "RectificationTask": _l("Rectification task"),
    "SpotCheck": _l("Spot check"),
    "StoredFile": _l("File"),
    "PersonalDataRequest": _l("Personal data request"),
    "YearPlan": _l("Yearly plan"),
    "AssociationSettings": _l("Settings"),
}

OUTCOME_LABELS = {
    "ok": _l("Done"),
    "denied": _l("Refused"),
    "failed": _l("Failed"),
    "disabled": _l("Login disabled"),
    "locked": _l("Locked"),
    "unknown": _l("Unknown login"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def record_label(type_name: str) -> str:
    return str(RECORD_LABELS.get(type_name, type_name))


def outcome_label(code: str) -> str:
    return str(OUTCOME_LABELS.get(code, code))
