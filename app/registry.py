"""The one place where what registers itself on import is imported: every domain's tables (so
the metadata that Alembic, the tests and `db.create_all` see is complete), the scheduled jobs
(`app.core.jobs.periodic`), the marks shown in the dashboards (`app.dashboards.marks`), each
domain's section of a member's personal data (`app.core.personal_data`), and the dashboards'
figure groups of the domains above them (`app.dashboards.figures.register_group`) and
governance's readers of 满意率 (`app.dashboards.manual.register_evaluation`).
`create_app` calls `load()`; a new domain adds its modules here.
"""

import importlib

MODELS = (
    "tenants.models",
    "app.core.audit",
    "app.core.sms_outbox.models",
    "app.core.inbox",
    "app.core.uploads",
    "app.accounts.models",
    "app.associations.models",
    "app.associations.group_sms.models",
    "app.members.models",
    "app.activities.models",
    "app.activities.participants",
    "app.checklist.models",
    "app.events.models",
    "app.volunteers.models",
    "app.dues.models",
    "app.dues.stripe_events",
    "app.oversight.models",
    "app.governance.models",
    "app.dashboards.models",
    "app.reports.models",
    "app.assessments.models",
)

SCHEDULED_JOBS = (
    "app.accounts.session_records",
    "app.associations.group_sms.sending",
    "app.core.sms_outbox.sending",
    "app.dashboards.refresh",
    "app.dues.reminders",
    "app.dues.webhooks",
    "app.members.purge",
    "app.reports.reminders",
    "app.assessments.reminders",
    "app.volunteers.reminders",
)

# Marks other domains put on associations in the dashboards (app/dashboards/marks.py).
DASHBOARD_MARKS = ("app.assessments.marks",)

PERSONAL_DATA = (
    "app.members.personal_data",
    "app.activities.personal_data",
    "app.events.personal_data",
    "app.dues.personal_data",
    "app.volunteers.personal_data",
)

FIGURE_GROUPS = ("app.associations.figures", "app.governance.figures")


def load() -> None:
    """Import every registering module once (importing again is free)."""
    for name in (*MODELS, *SCHEDULED_JOBS, *DASHBOARD_MARKS, *PERSONAL_DATA, *FIGURE_GROUPS):
        importlib.import_module(name)
