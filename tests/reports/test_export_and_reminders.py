"""The subtree's reports .xlsx costs the same number of queries whatever the size of the
subtree, and the report reminders go out once each (issue 15)."""

import io
from datetime import timedelta

from openpyxl import load_workbook

from app.core.clock import china_today
from app.extensions import db
from app.reports.reminders import send_report_reminders
from tenants.models import AssociationKind
from tests.factories import create_report, create_report_form, create_tree_node


def test_the_export_runs_the_same_queries_for_3_or_23_grassroots_associations(
    world, client_for, count_queries
):
    form = create_report_form(world.county)
    create_report(world.village_a1, form, state="accepted", values={"fig:members": 40, "m1": 3})
    client = client_for(world.county_auditor.login)
    url = f"/a/{world.county.slug}/reports/forms/{form.id}/export"

    def export():
        client.get(url)
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        return len(statements), rows

    few, rows = export()
    assert len(rows) == 1 + 3 + 1
    for number in range(4):
        township = create_tree_node(f"export-t{number}", AssociationKind.TOWNSHIP, world.county)
        for village in range(5):
            node = create_tree_node(
                f"export-v{number}-{village}", AssociationKind.VILLAGE, township
            )
            create_report(node, form, state="accepted", values={"fig:members": 10, "m1": 1})
    many, rows = export()
    assert many == few
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert len(body) == 23
    members = header.index("会员")
    # The total is the sum of the rows shown: 40 + 20 × 10.
    assert total[members] == 240 and total[1] == "合计（已接收21份）"
    assert sum(row[members] or 0 for row in body) == 240
    under = {row[1]: row[0] for row in body}
    assert under["export-v2-3计生协"] == "export-t2计生协"


def test_report_reminders_go_once_each_and_a_missed_morning_is_caught_up(world, outbox):
    today = china_today()
    form = create_report_form(world.township_a, deadline_on=today + timedelta(days=2))
    create_report(world.village_a2, form, state="submitted")
    outbox.clear()
    # Two days before the deadline (the morning three days before was missed): "due soon".
    assert send_report_reminders(today) == 1
    db.session.commit()
    assert send_report_reminders(today) == 0
    assert send_report_reminders(today + timedelta(days=1)) == 0
    # The day after the deadline, "overdue", once.
    assert send_report_reminders(today + timedelta(days=3)) == 1
    db.session.commit()
    assert send_report_reminders(today + timedelta(days=4)) == 0
    subjects = [(m.to, m.subject) for m in outbox]
    assert subjects == [
        (world.secretary_a1.login, "报表还有3天截止：季度统计报表"),
        (world.secretary_a1.login, "报表已逾期：季度统计报表"),
    ]
