"""Statistics reports (issue 15): define → fill → check → submit → return → accept, the
sums of a level with associations below, the export, late reports and who may see what."""

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.core.clock import china_today
from app.dashboards.models import ClosedPeriod, PeriodFigures
from app.extensions import db
from app.reports.models import Report, ReportForm
from app.reports.reminders import send_report_reminders
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_report, create_report_form


def reports_url(association, path: str = "") -> str:
    return f"/a/{association.slug}/reports{path}"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def all_reports(form_id: int) -> list[Report]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return list(
            db.session.scalars(
                select(Report)
                .where(Report.form_id == form_id)
                .order_by(Report.association_id, Report.version)
                .execution_options(populate_existing=True)
            )
        )


def definition(**overrides) -> dict:
    data = {
        "name": "第四季度宣传统计",
        "period_kind": "quarter",
        "year": str(china_today().year),
        "period_number": "4",
        "deadline_on": (china_today() + timedelta(days=10)).isoformat(),
        "figures": ["members", "new_members"],
        "field_label_1": "宣传次数",
        "field_kind_1": "number",
        "field_required_1": "1",
        "field_label_2": "其中入户宣传",
        "field_kind_2": "number",
        "field_label_3": "宣传形式",
        "field_kind_3": "choice",
        "field_choices_3": "入户, 讲座, 展板",
        "check_kind_1": "le",
        "check_left_1": "m2",
        "check_right_1": "m1",
        "check_kind_2": "ge0",
        "check_left_2": "m1",
        "check_kind_3": "required_if",
        "check_left_3": "m3",
        "check_right_3": "m2",
    }
    data.update(overrides)
    return data


def define(client, association, **overrides) -> ReportForm:
    response = client.post(reports_url(association, "/forms/new"), definition(**overrides))
    assert response.status_code == 303, text_of(response)
    return db.session.scalar(select(ReportForm).order_by(ReportForm.id.desc()))


def start(client, association, form) -> int:
    response = client.post(reports_url(association, f"/forms/{form.id}/start"), {})
    assert response.status_code == 303
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_define_fill_check_submit_return_resubmit_accept_and_correct(world, client_for, outbox):
    township = client_for(world.township_a_secretary.login)
    form = define(township, world.township_a)
    # Both villages' secretaries hear of it; the other branch does not.
    told = {message.to for message in outbox}
    assert {world.secretary_a1.login, world.secretary_a2.login} <= told
    assert world.secretary_b1.login not in told
    outbox.clear()

    village = client_for(world.secretary_a1.login)
    assert "第四季度宣传统计" in text_of(village.get(reports_url(world.village_a1)))
    report_id = start(village, world.village_a1, form)
    page = text_of(village.get(reports_url(world.village_a1, f"/{report_id}")))
    assert 'data-testid="value-fig-members"' in page and "Live figures" in page

    # The checks fail with their messages, and nothing is submitted.
    bad = village.post(
        reports_url(world.village_a1, f"/{report_id}"),
        {"action": "submit", "m1": "-2", "m2": "5"},
    )
    assert bad.status_code == 422
    page = text_of(bad)
    assert "宣传次数 cannot be negative." in page
    assert "其中入户宣传 (5) cannot be more than 宣传次数 (-2)." in page
    assert "宣传形式 is required when 其中入户宣传 is filled in." in page
    assert all_reports(form.id)[0].state == "draft"
    # In Chinese too (the default locale).
    village.post("/locale", {"locale": "zh_Hans_CN", "next": "/"})
    chinese = village.post(
        reports_url(world.village_a1, f"/{report_id}"), {"action": "submit", "m2": "5"}
    )
    assert chinese.status_code == 422 and "宣传次数为必填项。" in text_of(chinese)
    village.post("/locale", {"locale": "en", "next": "/"})

    good = {"action": "submit", "m1": "6", "m2": "4", "m3": "入户", "remarks": "按时完成"}
    assert village.post(reports_url(world.village_a1, f"/{report_id}"), good).status_code == 303
    assert all_reports(form.id)[0].state == "submitted"
    assert [m.to for m in outbox] == [world.township_a_secretary.login]
    outbox.clear()

    # Siblings never see it; the county's auditor reads it but only the township decides.
    sibling = client_for(world.secretary_a2.login)
    assert sibling.get(reports_url(world.village_a1, f"/{report_id}")).status_code == 404
    assert sibling.get(reports_url(world.village_a2, f"/{report_id}")).status_code == 404
    auditor = client_for(world.county_auditor.login)
    assert auditor.get(reports_url(world.village_a1, f"/{report_id}")).status_code == 200
    decide_url = reports_url(world.village_a1, f"/{report_id}/decide")
    assert auditor.post(decide_url, {"decision": "accept"}).status_code == 403
    assert village.post(decide_url, {"decision": "accept"}).status_code == 403

    # Returned: a comment is required, the village is told and submits again.
    assert township.post(decide_url, {"decision": "return"}).status_code == 422
    assert (
        township.post(decide_url, {"decision": "return", "comment": "入户数偏低"}).status_code
        == 303
    )
    assert all_reports(form.id)[0].state == "returned"
    assert [m.to for m in outbox] == [world.secretary_a1.login] and "入户数偏低" in outbox[0].body
    assert "入户数偏低" in text_of(village.get(reports_url(world.village_a1, f"/{report_id}")))
    good["m2"] = "5"
    assert village.post(reports_url(world.village_a1, f"/{report_id}"), good).status_code == 303
    assert township.post(decide_url, {"decision": "accept"}).status_code == 303
    accepted = all_reports(form.id)[0]
    assert accepted.state == "accepted" and accepted.values["m2"] == 5

    # Frozen: no change; a correction is a new version and the accepted one is kept.
    refused = village.post(reports_url(world.village_a1, f"/{report_id}"), {"m1": "9"})
    assert refused.status_code == 409
    second_id = start(village, world.village_a1, form)
    assert second_id != report_id
    versions = all_reports(form.id)
    assert [(r.version, r.state) for r in versions] == [(1, "accepted"), (2, "draft")]
    assert versions[1].values["m1"] == 6


def test_figures_come_frozen_from_a_closed_period(world, client_for):
    year = china_today().year - 1
    with UNSCOPED_BYPASS("test sets up a closed period"):
        db.session.add(ClosedPeriod(year=year, quarter=2))
        db.session.add(
            PeriodFigures(
                association_id=world.village_a1.id,
                year=year,
                quarter=2,
                path=world.village_a1.path,
                kind="community",
                frozen={"members": 42, "new_members": 7, "activities_q2": 3},
            )
        )
        db.session.commit()
    form = create_report_form(world.township_a, year=year, period_number=2)
    village = client_for(world.secretary_a1.login)
    report_id = start(village, world.village_a1, form)
    report = all_reports(form.id)[0]
    assert report.id == report_id and report.figures_source == "frozen"
    assert (report.values["fig:members"], report.values["fig:new_members"]) == (42, 7)
    assert report.values["fig:activities"] == 3
    page = text_of(village.get(reports_url(world.village_a1, f"/{report_id}")))
    assert "Figures of the closed period (frozen)" in page


def test_a_township_sums_accepted_reports_and_needs_a_reason_when_incomplete(world, client_for):
    form = create_report_form(world.county)
    values_1 = {"fig:members": 40, "fig:new_members": 4, "fig:activities": 2, "m1": 3, "m2": 1}
    values_2 = {"fig:members": 60, "fig:new_members": 6, "fig:activities": 1, "m1": 5}
    create_report(world.village_a1, form, state="accepted", values=values_1)
    create_report(world.village_a2, form, state="submitted", values=values_2)

    township = client_for(world.township_a_secretary.login)
    report_id = start(township, world.township_a, form)
    page = text_of(township.get(reports_url(world.township_a, f"/{report_id}")))
    # Only the accepted report counts; the missing one is named.
    own = next(r for r in all_reports(form.id) if r.association_id == world.township_a.id)
    assert own.figures_source == "children"
    assert own.values == {
        "fig:members": 40,
        "fig:new_members": 4,
        "fig:activities": 2,
        "m1": 3,
        "m2": 1,
    }
    assert "1 association below has no accepted report." in page
    submit = {"action": "submit", "m3": "汇总说明"}
    refused = township.post(reports_url(world.township_a, f"/{report_id}"), submit)
    assert refused.status_code == 422
    assert "1 associations below have no accepted report: say why" in text_of(refused)
    submit["incomplete_reason"] = "乙村报表退回修改中"
    assert township.post(reports_url(world.township_a, f"/{report_id}"), submit).status_code == 303
    own = next(r for r in all_reports(form.id) if r.association_id == world.township_a.id)
    assert own.state == "submitted" and own.incomplete_reason == "乙村报表退回修改中"

    # The county's form page lists its two townships: one submitted, one missing.
    county = client_for(world.county_auditor.login)
    page = text_of(county.get(reports_url(world.county, f"/forms/{form.id}")))
    assert "township-a计生协" in page and "township-b计生协" in page
    assert "0 of 2 accepted" in page


def test_export_has_one_row_per_grassroots_association(world, client_for):
    form = create_report_form(world.county)
    create_report(
        world.village_a1,
        form,
        state="accepted",
        values={"fig:members": 40, "fig:new_members": 4, "m1": 3, "m3": "=cmd"},
    )
    create_report(world.village_b1, form, state="accepted", values={"fig:members": 25, "m1": 2})
    create_report(world.village_a2, form, state="submitted", values={"fig:members": 99})
    response = client_for(world.county_auditor.login).get(
        reports_url(world.county, f"/forms/{form.id}/export")
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert [row[1] for row in body] == ["village-a1计生协", "village-a2计生协", "village-b1计生协"]
    members = header.index("会员")
    assert [row[members] for row in body] == [40, None, 25]
    assert total[members] == 65 and total[1] == "合计（已接收2份）"
    assert "'=cmd" in body[0]  # a formula typed into a text field stays text


def test_late_reports_are_problems_and_reminders_go_out(world, client_for, outbox):
    today = china_today()
    late_form = create_report_form(
        world.county, name="逾期报表", deadline_on=today - timedelta(days=1)
    )
    create_report(world.village_a1, late_form, state="submitted")
    # Not filed: township_a, township_b, village_a2, village_b1.
    auditor = client_for(world.county_auditor.login)
    page = text_of(auditor.get(f"/a/{world.county.slug}/dashboard/problems"))
    assert 'data-testid="late-reports"' in page and "4 associations have not filed" in page
    dashboard = text_of(auditor.get(f"/a/{world.county.slug}/dashboard/"))
    assert 'data-testid="slot-late-reports"' in dashboard  # the tile loads after the page
    tile = text_of(auditor.get(f"/a/{world.county.slug}/dashboard/tiles/late-reports"))
    assert 'data-testid="tile-late-reports"' in tile and "逾期报表: 4" in tile
    township = client_for(world.township_a_secretary.login)
    page = text_of(township.get(f"/a/{world.township_a.slug}/"))
    assert "2 associations have not filed" in page  # itself and village_a2

    soon_form = create_report_form(world.township_a, deadline_on=today + timedelta(days=3))
    create_report(world.village_a2, soon_form, state="submitted")
    outbox.clear()
    assert send_report_reminders() == 4
    db.session.commit()  # as the job does: the e-mails leave once it commits
    subjects = sorted((m.to, m.subject) for m in outbox)
    assert (world.secretary_a1.login, "报表还有3天截止：季度统计报表") in subjects
    assert (world.secretary_a2.login, "报表已逾期：逾期报表") in subjects
    assert (world.secretary_a1.login, "报表已逾期：逾期报表") not in subjects

    # A late form of a level below counts only that level's subtree (village_a2 here).
    below = create_report_form(world.township_a, name="镇级报表", deadline_on=today - timedelta(2))
    create_report(world.village_a1, below, state="accepted")
    page = text_of(auditor.get(f"/a/{world.county.slug}/dashboard/problems"))
    assert f'data-testid="late-form-{below.id}"' in page
    assert "1 association has not filed" in page


def test_list_pages_run_a_fixed_number_of_queries(world, client_for, count_queries):
    form = create_report_form(world.county)
    auditor = client_for(world.county_auditor.login)

    def queries(path: str) -> int:
        with count_queries() as statements:
            assert auditor.get(reports_url(world.county, path)).status_code == 200
        return len(statements)

    form_page = queries(f"/forms/{form.id}")
    index_page = queries("")
    for association in (world.township_a, world.township_b):
        create_report(association, form, state="accepted")
    create_report_form(world.county, name="另一张")
    assert queries(f"/forms/{form.id}") == form_page
    assert queries("") == index_page


def test_only_the_secretary_of_a_level_with_associations_below_defines_forms(world, client_for):
    village = client_for(world.secretary_a1.login)
    assert village.get(reports_url(world.village_a1, "/forms/new")).status_code == 404
    township = client_for(world.township_a_secretary.login)
    refused = township.post(
        reports_url(world.township_a, "/forms/new"),
        definition(name="", deadline_on="", check_right_1="m2"),
    )
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Give the form a name." in page and "Set a deadline." in page
    assert "Choose two different fields for this check." in page
    assert db.session.scalar(select(ReportForm.id)) is None


def test_reusing_last_periods_form_moves_the_period_and_deadline(world, client_for):
    township = client_for(world.township_a_secretary.login)
    form = define(township, world.township_a)
    page = text_of(township.get(reports_url(world.township_a, f"/forms/new?reuse={form.id}")))
    next_year = str(china_today().year + 1)
    assert f'value="{next_year}"' in page and 'value="1"' in page and "宣传次数" in page
    # Q4 ends on 31 December, Q1 on 31 March: the deadline moves on by the same 90 days.
    assert (form.deadline_on + timedelta(days=90)).isoformat() in page
    assert (
        township.post(
            reports_url(world.township_a, f"/forms/new?reuse={form.id}"),
            definition(year=next_year, period_number="1"),
        ).status_code
        == 303
    )
    reused = db.session.scalar(select(ReportForm).order_by(ReportForm.id.desc()))
    assert reused.reused_from_id == form.id and reused.period_number == 1
