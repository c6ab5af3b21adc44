"""The report to residents (报告): drafted from the year's figures and the commitments'
outcomes, edited and published by the secretary, with the figures it quotes frozen."""

from datetime import date

from app.core.clock import china_today
from app.governance.models import YearReport
from tests.factories import create_activity, create_plan, reload

BASE = "/a/village-a1/governance"
YEAR = china_today().year - 1  # a year that is over: its commitments are judged


def _report_id():
    from sqlalchemy import select

    from app.extensions import db
    from tenants.context import UNSCOPED_BYPASS

    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(YearReport.id))


def test_the_report_is_drafted_from_the_figures_published_and_then_frozen(world, client_for):
    create_plan(
        world.village_a1,
        year=YEAR,
        commitments=(("Hold two activities", "activities", 2, 4),),
        published=True,
    )
    create_activity(world.village_a1, title="Health talk", held_on=date(YEAR, 3, 1))
    secretary = client_for(world.secretary_a1.login)
    page = secretary.get(f"{BASE}/report?year={YEAR}").get_data(as_text=True)
    assert "held 1 activities" in page and "- Hold two activities: Behind" in page
    body = {"year": str(YEAR), "body": "This year we held one activity.\nThank you."}
    assert secretary.post(f"{BASE}/report", body).status_code == 303
    assert secretary.post(f"{BASE}/report/publish", {"year": str(YEAR)}).status_code == 303
    report = reload(YearReport, _report_id())
    assert report.is_published and report.frozen["activities"] == 1
    assert report.frozen["commitments"][0]["state"] == "behind"

    # Later changes to the registers leave the published report as it was.
    create_activity(world.village_a1, title="Member day", held_on=date(YEAR, 5, 29))
    public = client_for().get(f"/p/village-a1?year={YEAR}").get_data(as_text=True)
    assert "This year we held one activity." in public
    figures = public.split('data-testid="report-figures"')[1].split("</dl>")[0]
    assert "<dd>1</dd>" in figures
    assert secretary.post(f"{BASE}/report", body).status_code == 409
    assert secretary.post(f"{BASE}/report/publish", {"year": str(YEAR)}).status_code == 409


def test_no_report_before_the_plan_is_published(world, client_for):
    create_plan(world.village_a1, year=YEAR)
    secretary = client_for(world.secretary_a1.login)
    body = {"year": str(YEAR), "body": "Draft"}
    assert secretary.post(f"{BASE}/report", body).status_code == 303
    assert secretary.post(f"{BASE}/report/publish", {"year": str(YEAR)}).status_code == 422
    assert client_for().get(f"/p/village-a1?year={YEAR}").status_code == 404
    auditor = client_for(world.county_auditor.login)
    page = auditor.get(f"{BASE}/report?year={YEAR}").get_data(as_text=True)
    assert 'data-testid="report-form"' not in page
