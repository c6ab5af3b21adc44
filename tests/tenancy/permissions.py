"""The permission table: every URL rule × method of the app, and who may use it.

Tenant routes (`/a/<slug>/…`) list the status each actor gets in the standard test world
(tests/factories.py), requesting village_a1's pages:
  secretary — secretary of village_a1;   member — plain member of village_a1;
  auditor   — auditor of the county above (read-only oversight).
Siblings (village_a2's secretary), children reaching up (village_a1's secretary at township_a)
and other branches always get 404; the sweep checks that for every tenant route without it
being listed here. Routes outside any tenant say why in PUBLIC_ROUTES.

A route missing from both tables fails tests/tenancy/test_route_sweep.py: add it here.
Object ids in URLs are filled in by OBJECT_IDS (tests/tenancy/objects.py).
"""

# (endpoint, method): {"secretary": status, "member": status, "auditor": status}
TENANT_ROUTES = {
    ("associations.home", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("associations.people", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("associations.invite", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.revoke_invitation", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("associations.audit_log", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.sms_usage", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.group_message", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.group_message", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.group_message_status", "GET"): {
        "secretary": 200,
        "member": 403,
        "auditor": 403,
    },
    # A sent group message is no longer scheduled: the secretary is told so (303).
    ("associations.cancel_group_message", "POST"): {
        "secretary": 303,
        "member": 403,
        "auditor": 403,
    },
    ("associations.record_consent", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    # Member and household registers (app/members/).
    ("members.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("members.new", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.new", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.show", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("members.edit", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.edit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.reveal", "POST"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.delete", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    # Undo (issue 18): the secretary's "recently deleted" page; the swept member and household
    # are live, so there is nothing of theirs to restore (404).
    ("members.recently_deleted", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.restore", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("members.export", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("members.me", "GET"): {"secretary": 200, "member": 200, "auditor": 403},
    ("members.me", "POST"): {"secretary": 404, "member": 404, "auditor": 403},
    # PIPL rights: nobody in the sweep's world has a member record of their own (→ 404).
    ("members.my_data", "GET"): {"secretary": 404, "member": 404, "auditor": 403},
    ("members.my_data_download", "GET"): {"secretary": 404, "member": 404, "auditor": 403},
    ("members.request_deletion", "POST"): {"secretary": 404, "member": 404, "auditor": 403},
    ("members.data_requests", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    # Household moves: a member asks for herself (no member record in the sweep's world → 404);
    # secretary and staff decide.
    ("members.request_move", "POST"): {"secretary": 404, "member": 404, "auditor": 403},
    ("members.moves", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.approve_move", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.decline_move", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.decide_data_request", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.import_upload", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.import_upload", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("members.import_show", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.import_mapping", "POST"): {"secretary": 409, "member": 403, "auditor": 403},
    ("members.import_row", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.import_row", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("members.import_confirm", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("members.import_layout", "POST"): {"secretary": 409, "member": 403, "auditor": 403},
    ("members.import_fix_genders", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("members.import_skip_problems", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("members.import_problems", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("members.import_retry", "POST"): {"secretary": 409, "member": 403, "auditor": 403},
    ("members.import_cancel", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("households.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("households.new", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("households.new", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("households.settings", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("households.settings", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("households.show", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("households.edit", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("households.edit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("households.central", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("households.link", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("households.unlink", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("households.visit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("households.delete", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("households.restore", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    # Uploaded files (issue 4): activity photos and evidence are staff-level reads.
    ("files.download", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("files.thumbnail", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    # The activity log (issue 4): staff-level reads, written by secretary and staff.
    ("activities.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("activities.new", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("activities.new", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("activities.report", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("activities.detail", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("activities.edit", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("activities.edit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("activities.delete", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("activities.add_photos", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("activities.delete_photo", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("activities.member_search", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    # The 七有 checklist (issue 4): the secretary prepares and submits, a higher level reviews.
    ("checklist.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("checklist.add_evidence", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("checklist.delete_evidence", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("checklist.save_note", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("checklist.submit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("checklist.withdraw", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("checklist.review", "POST"): {"secretary": 403, "member": 403, "auditor": 422},
    # The yearly assessment (issue 15): a level's sheets and scoring list, the association's own
    # assessment; only the level directly above scores (the county auditor is two levels up).
    ("assessments.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.create_sheet", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.sheet", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.add_item", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.remove_item", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("assessments.publish", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.own", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.claim", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.submit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.score", "POST"): {"secretary": 403, "member": 403, "auditor": 403},
    ("assessments.scoring", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.close", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.name_model", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.withdraw_model", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.reopen", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("assessments.export", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.statement", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("assessments.sign_statement", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("checklist.review_many", "POST"): {"secretary": 403, "member": 403, "auditor": 422},
    # Setting up the associations below (issue 8).
    ("associations.children", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.create_child", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.child", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.invite_child_secretary", "POST"): {
        "secretary": 422,
        "member": 403,
        "auditor": 403,
    },
    ("associations.resend_child_invitation", "POST"): {
        "secretary": 303,
        "member": 403,
        "auditor": 403,
    },
    ("associations.revoke_child_invitation", "POST"): {
        "secretary": 303,
        "member": 403,
        "auditor": 403,
    },
    # Bulk set-up from a spreadsheet (village_a1 is grassroots: nothing can go under it).
    ("associations.bulk_upload", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.bulk_check", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.bulk_confirm", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.bulk_cancel", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("associations.bulk_layout", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.change_role", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("associations.remove_person", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("associations.disable_person", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("associations.enable_person", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    # Only a secretary of an association above may reset a lost second factor (the sweep's
    # auditor is the county's auditor, not a secretary): tests/accounts/test_second_factor.py.
    ("associations.reset_second_factor", "POST"): {
        "secretary": 403,
        "member": 403,
        "auditor": 403,
    },
    ("associations.settings", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("associations.update_settings", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("associations.record_population", "POST"): {
        "secretary": 422,
        "member": 403,
        "auditor": 403,
    },
    ("associations.upload_logo", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    # Events (issue 5): everyone with access reads; anyone with a role here signs up; staff
    # publish, run the door list and record the activity. Empty posts are refused (422).
    ("events.index", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("events.new", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("events.new", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("events.detail", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("events.edit", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("events.edit", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("events.signup", "POST"): {"secretary": 303, "member": 303, "auditor": 403},
    ("events.cancel", "POST"): {"secretary": 422, "member": 422, "auditor": 403},
    ("events.checkin", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("events.toggle_checkin", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("events.walk_in", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("events.scan", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("events.record", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("events.calendar", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    # Volunteers (issue 5): everyone with access sees shifts and gaps; registers-level reads of
    # profiles, teams and hours; staff write; anyone with a role signs up (member_a1 and the
    # secretary have no volunteer profile: 422); staff or the team leader assign and confirm.
    ("volunteers.index", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("volunteers.gaps", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("volunteers.me", "GET"): {"secretary": 200, "member": 200, "auditor": 403},
    ("volunteers.people", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("volunteers.new_volunteer", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.new_volunteer", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.volunteer", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("volunteers.edit_volunteer", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.edit_volunteer", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.record_past_hours", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.certificate", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("volunteers.teams", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("volunteers.new_team", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.new_team", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.team", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("volunteers.edit_team", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.edit_team", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.add_team_member", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.remove_team_member", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("volunteers.new_shift", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.new_shift", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.shift", "GET"): {"secretary": 200, "member": 200, "auditor": 200},
    ("volunteers.edit_shift", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.edit_shift", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.signup", "POST"): {"secretary": 422, "member": 422, "auditor": 403},
    ("volunteers.cancel", "POST"): {"secretary": 422, "member": 422, "auditor": 403},
    ("volunteers.assign", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.remove_from_shift", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("volunteers.confirm_hours", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("volunteers.hours", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    # Members see the ranking only when the association shows it (off by default: 404).
    ("volunteers.ranking", "GET"): {"secretary": 200, "member": 404, "auditor": 200},
    ("volunteers.settings", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("volunteers.settings", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    # Dashboards (issue 7): aggregates of the subtree for everyone but plain members.
    ("dashboards.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.problems", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.late_reports_tile", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.export", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.report", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.refresh", "POST"): {"secretary": 303, "member": 403, "auditor": 303},
    # Targets (issue 14): read with the dashboard, set by the level's own secretary only.
    ("dashboards.targets", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.save_targets", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dashboards.add_target", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dashboards.associations", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.manual_values", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dashboards.save_manual_values", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    # Oversight (issue 7): a higher level's review queue, rectification tasks and spot checks.
    # village_a1 has nothing below it: its queue and draws are empty, so drawing is refused (422).
    # A task against village_a1 is opened and decided by the county; its secretary answers.
    ("oversight.reviews", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("oversight.tasks", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("oversight.new_task", "GET"): {"secretary": 403, "member": 403, "auditor": 200},
    ("oversight.new_task", "POST"): {"secretary": 403, "member": 403, "auditor": 422},
    ("oversight.task", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("oversight.answer_task", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("oversight.decide_task", "POST"): {"secretary": 403, "member": 403, "auditor": 422},
    ("oversight.spot_checks", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("oversight.draw", "POST"): {"secretary": 422, "member": 403, "auditor": 422},
    ("oversight.spot_check", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("oversight.inspect", "POST"): {"secretary": 422, "member": 403, "auditor": 422},
    # Statistics reports (issue 15). village_a1 is grassroots: it defines no form (404) and
    # cannot file its own form (the swept form is its own: 404). The swept report is its draft
    # of township_a's form: its secretary saves it (303); only township_a's secretary decides.
    ("reports.index", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("reports.new_form", "GET"): {"secretary": 404, "member": 403, "auditor": 403},
    ("reports.new_form", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("reports.form", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("reports.export", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("reports.start", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("reports.report", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("reports.save", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("reports.decide", "POST"): {"secretary": 403, "member": 403, "auditor": 403},
    ("reports.print_report", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    # Dues (issue 6): staff read and record; auditors read (collection rates, arrears,
    # receipts); a member is sent from the dues page to their own, and gets only their own
    # receipts (the swept payment is another member's: 404). Empty posts are refused (422).
    ("dues.index", "GET"): {"secretary": 200, "member": 303, "auditor": 200},
    ("dues.plan", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("dues.plan", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.generate", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.member", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.record_payment", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.add_exemption", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.remove_exemption", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("dues.payments", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.void", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("dues.void", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.receipt", "GET"): {"secretary": 200, "member": 404, "auditor": 200},
    ("dues.arrears", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.arrears_export", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.central", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.central_detail", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("dues.collect", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("dues.my", "GET"): {"secretary": 200, "member": 200, "auditor": 403},
    # Stripe Connect for dues (issue 6): the secretary connects the association's account; a
    # person with a role here pays only their own charge (the swept charge is nobody's: 404).
    # Onboarding and refreshing without Stripe keys (as in the sweep) go back to the page.
    ("dues_stripe.connect", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("dues_stripe.onboard", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("dues_stripe.refresh", "POST"): {"secretary": 404, "member": 403, "auditor": 403},
    ("dues_stripe.pay", "POST"): {"secretary": 404, "member": 404, "auditor": 403},
    ("dues_stripe.paid", "GET"): {"secretary": 404, "member": 404, "auditor": 403},
    ("dues_stripe.cancelled", "GET"): {"secretary": 404, "member": 404, "auditor": 403},
    # The yearly plan (issue 16): the secretary writes, staff and the level above read (监督);
    # the swept commitment and planned activity belong to a draft plan (removable: 303).
    ("governance.plan", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("governance.save_plan", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.add_commitment", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.add_planned_activity", "POST"): {
        "secretary": 422,
        "member": 403,
        "auditor": 403,
    },
    ("governance.record_approval", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.publish", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.commitment", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("governance.add_update", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.delete_commitment", "POST"): {"secretary": 303, "member": 403, "auditor": 403},
    ("governance.delete_planned_activity", "POST"): {
        "secretary": 303,
        "member": 403,
        "auditor": 403,
    },
    ("governance.link_planned_activity", "POST"): {
        "secretary": 303,
        "member": 403,
        "auditor": 403,
    },
    ("governance.report", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("governance.save_report", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.publish_report", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.below", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("governance.photo_publication", "GET"): {"secretary": 200, "member": 403, "auditor": 403},
    ("governance.set_photo_publication", "POST"): {
        "secretary": 422,
        "member": 403,
        "auditor": 403,
    },
    # The residents' evaluation (评议): the secretary opens it, prints codes and moderates;
    # only the level above comments (监督) — the sweep's secretary works here: 403.
    ("governance.survey", "GET"): {"secretary": 200, "member": 403, "auditor": 200},
    ("governance.open_survey", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.print_codes", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.moderate", "POST"): {"secretary": 422, "member": 403, "auditor": 403},
    ("governance.comment_on_plan", "POST"): {"secretary": 403, "member": 403, "auditor": 422},
}

# (endpoint, method): why it holds no tenant data (or how it is guarded instead).
PUBLIC_ROUTES = {
    ("static", "GET"): "vendored assets and styles",
    ("errors.too_large", "GET"): "the 413 page nginx shows for an oversize body; no data",
    ("accounts.index", "GET"): "redirects to the user's own association",
    ("accounts.login", "GET"): "sign-in form",
    ("accounts.login", "POST"): "sign-in",
    ("accounts.logout", "POST"): "ends the user's own session",
    ("accounts.choose_association", "GET"): "lists the user's own memberships only",
    ("accounts.forgot_password", "GET"): "form",
    ("accounts.forgot_password", "POST"): "same answer whether or not the account exists",
    ("accounts.reset_password", "GET"): "signed token names the user",
    ("accounts.reset_password", "POST"): "signed token names the user",
    ("accounts.change_password", "GET"): "the user's own account",
    ("accounts.change_password", "POST"): "the user's own account",
    ("accounts.accept_invitation", "GET"): "secret token names the invitation",
    ("accounts.accept_invitation", "POST"): "secret token names the invitation",
    ("accounts.set_locale", "POST"): "the user's own preference",
    ("accounts.sessions", "GET"): "the user's own sessions only (tests/accounts/test_sessions.py)",
    ("accounts.end_session", "POST"): "the user's own session; anyone else's id is 404",
    ("accounts.end_other_sessions", "POST"): "the user's own sessions",
    ("accounts.end_all_sessions", "POST"): "the user's own sessions",
    ("accounts.notifications", "GET"): "the user's own notices only (tests/test_inbox.py)",
    ("accounts.mark_notification_read", "POST"): "the user's own notice; anyone else's id is 404",
    ("accounts.mark_all_notifications_read", "POST"): "the user's own notices",
    ("accounts.phone_login", "GET"): "form",
    ("accounts.phone_login", "POST"): "same answer for any number; the code goes to the phone",
    ("accounts.phone_login_code", "GET"): "the pending SMS sign-in of this browser only",
    ("accounts.phone_login_code", "POST"): "the code sent to the pending number only",
    ("accounts.claim_member", "GET"): "records holding the phone just proven by its code",
    ("accounts.claim_member", "POST"): "links only a record holding the proven phone",
    ("accounts.sign_in_code", "GET"): "the pending sign-in of this browser only",
    ("accounts.sign_in_code", "POST"): "the pending sign-in of this browser only",
    ("accounts.manage_second_factor", "GET"): "the user's own account",
    ("accounts.enrol_second_factor", "GET"): "the user's own account",
    ("accounts.enrol_second_factor", "POST"): "the user's own account",
    ("accounts.disable_second_factor", "POST"): "the user's own account",
    ("accounts.renew_recovery_codes", "POST"): "the user's own account",
    ("accounts.download_recovery_codes", "POST"): "echoes the codes the page posts; stores none",
    ("admin.index", "GET"): "platform operators only (tests/tenancy/test_platform_console.py)",
    ("admin.index", "POST"): "platform operators only",
    ("admin.move_association", "GET"): "platform operators only",
    ("admin.move_association", "POST"): "platform operators only",
    ("admin.association_detail", "GET"): "platform operators only (tests/admin/)",
    ("admin.suspend", "POST"): "platform operators only (tests/admin/)",
    ("admin.unsuspend", "POST"): "platform operators only (tests/admin/)",
    ("admin.export_association", "GET"): "platform operators only (tests/admin/)",
    ("admin.delete_association", "POST"): "platform operators only (tests/admin/)",
    ("admin.users", "GET"): "platform operators only (tests/accounts/test_second_factor.py)",
    ("admin.reset_second_factor", "POST"): "platform operators only (test_second_factor.py)",
    ("public.page", "GET"): (
        "an association's public page (居务公开): only its published plan, commitments' progress, "
        "activity titles and dates and dues in total; nothing personal, no sign-in "
        "(tests/governance/test_public_page.py)"
    ),
    ("public.notice", "GET"): "the public page as an A4 PDF for the wall (the same data)",
    ("public.photo", "GET"): "an activity photo the secretary marked public; 404 for any other",
    ("public.send_code", "POST"): (
        "texts an evaluation code to the phone given; keeps only its keyed hash; rate-limited "
        "per IP and per phone (tests/governance/test_survey_by_phone.py)"
    ),
    ("public.survey", "GET"): (
        "the evaluation form of an association whose plan is published; no personal data"
    ),
    ("public.survey", "POST"): (
        "one answer per one-time printed code (the code is the credential), rate-limited per "
        "IP (tests/governance/test_survey.py)"
    ),
    ("sms.opt_out_page", "GET"): "signed token names only a number's hash; shows a button",
    ("sms.opt_out_page", "POST"): "signed token: the link's number stops getting notices",
    ("sms_callbacks.receive_reports", "POST"): "secret in the URL (tests/test_sms.py); 404 else",
    ("sms_callbacks.receive_replies", "POST"): "secret in the URL (tests/test_sms.py); 404 else",
    ("stripe_webhook.receive", "POST"): (
        "Stripe's webhook: no session or CSRF token, authenticated by the signature on the raw "
        "body; events are applied under the association owning the connected account "
        "(tests/dues/test_stripe_webhooks.py)"
    ),
}
