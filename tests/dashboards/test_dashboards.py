"""Dashboards: subtree roll-ups a higher association sees, drill-down, flags, sorting, the
problems list, exports, query counts, and the figures kept equal to the raw tables."""

import io

import openpyxl
from sqlalchemy import delete, select

from app.activities.models import Activity
from app.core.audit import AuditLog
from app.core.clock import china_today
from app.dashboards import rollup
from app.dashboards.models import AssociationFigures, SubtreeFigures
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import AssociationKind
from tests.dashboards.helpers import (
    YEAR,
    computed_naively,
    in_quarter,
    rolled_up,
    set_population,
)
from tests.factories import (
    create_activity,
    create_member,
    create_tree_node,
)


def url(association, path: str = "/", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": YEAR, **params}.items())
    return f"/a/{association.slug}/dashboard{path}?{query}"


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- what an auditor sees ---------------------------------------------------------------------


def test_county_auditor_sees_the_whole_county_rolled_up(figures, client_for):
    world = figures
    page = text_of(client_for(world.county_auditor.login).get(url(world.county)))
    # 3 + 1 active members over 60 served by the grassroots associations: 6.7%.
    assert "Figures as of" in page
    tile = page[page.index('data-testid="tile-members"') :]
    assert ">4<" in tile[:400] and "6.7%" in tile[:600]
    activities = page[page.index('data-testid="tile-activities"') :][:800]
    assert ">5<" in activities and "2 associations with a quarter missing" in activities
    checklist = page[page.index('data-testid="tile-checklist"') :][:800]
    assert "0 / 3" in checklist and "Submitted 1" in checklist and "Not started 2" in checklist
    linkage = page[page.index('data-testid="tile-linkage"') :][:500]
    assert "75.0%" in linkage and "3 of 4 households" in linkage
    # Associations by kind: the county itself, two townships, a community and two villages.
    kinds = page[page.index('data-testid="tile-associations"') :][:500]
    assert ">6<" in kinds and "Village 2" in kinds and "Community 1" in kinds


def test_children_table_has_a_row_per_child_with_flags(figures, client_for):
    world = figures
    page = text_of(client_for(world.county_auditor.login).get(url(world.county)))
    rows = page.split('data-testid="child-row"')[1:]
    assert [world.township_a.slug in rows[0], world.township_b.slug in rows[1]] == [True, True]
    # township-a: 4 members of 40 = 10% (green); township-b: 0 of 20 (red).
    assert "10.0%" in rows[0] and 'data-flag="green"' in rows[0].split("</td>")[2]
    assert "0.0%" in rows[1] and 'data-flag="red"' in rows[1].split("</td>")[2]
    # Activities: a2 misses three quarters out of two grassroots associations: red.
    assert 'data-flag="red"' in rows[0].split("</td>")[4]


def test_children_table_sorts_by_a_column(figures, client_for):
    world = figures
    client = client_for(world.county_auditor.login)
    ascending = text_of(client.get(url(world.county, sort="members", dir="asc")))
    descending = text_of(client.get(url(world.county, sort="members", dir="desc")))
    first = lambda page: page.split('data-testid="child-row"')[1][:200]  # noqa: E731
    assert world.township_b.slug in first(ascending)
    assert world.township_a.slug in first(descending)
    # An unknown column falls back to the name order instead of failing.
    assert client.get(url(world.county, sort="nonsense")).status_code == 200


def test_drill_down_to_a_village_with_a_breadcrumb_back_up(figures, client_for):
    world = figures
    client = client_for(world.county_auditor.login)
    page = text_of(client.get(url(world.township_a)))
    crumbs = page[page.index('data-testid="breadcrumb"') :][:800]
    assert world.county.name in crumbs and world.township_a.name in crumbs
    assert world.province.name not in crumbs
    assert f"/a/{world.county.slug}/dashboard" in crumbs
    village = text_of(client.get(url(world.village_a1)))
    crumbs = village[village.index('data-testid="breadcrumb"') :][:800]
    assert [world.county.name in crumbs, world.township_a.name in crumbs] == [True, True]
    assert "There are no associations below this one" in village


def test_an_auditor_sees_nothing_above_or_beside_their_association(figures, client_for):
    world = figures
    county_auditor = client_for(world.county_auditor.login)
    assert county_auditor.get(url(world.province)).status_code == 404
    township_b_auditor = client_for(world.township_b_auditor.login)
    assert township_b_auditor.get(url(world.township_a)).status_code == 404
    assert township_b_auditor.get(url(world.village_a1)).status_code == 404
    assert township_b_auditor.get(url(world.township_a, "/problems")).status_code == 404
    assert township_b_auditor.get(url(world.township_a, "/export.xlsx")).status_code == 404
    own = text_of(township_b_auditor.get(url(world.township_b)))
    assert world.village_b1.slug in own and world.village_a1.slug not in own


def test_a_grassroots_secretary_sees_their_own_figures(figures, client_for):
    world = figures
    page = text_of(client_for(world.secretary_a1.login).get(url(world.village_a1)))
    assert "10.0%" in page and world.township_a.name not in page.split("<main>")[1][:600]
    assert client_for(world.member_a1.login).get(url(world.village_a1)).status_code == 403


def test_a_year_that_is_not_offered_falls_back_with_a_message(figures, client_for):
    client = client_for(figures.county_auditor.login)
    response = client.get(f"/a/{figures.county.slug}/dashboard/?year=1999")
    assert response.status_code == 200
    assert "There are no figures for that year" in text_of(response)
    assert client.get(f"/a/{figures.county.slug}/dashboard/?year=abc").status_code == 200


# --- problems list ------------------------------------------------------------------------------


def problem_slugs(response) -> list[str]:
    page = text_of(response)
    return [part.split('"')[1] for part in page.split('data-testid="problem" data-slug=')[1:]]


def test_problems_list_filters_by_target_and_kind(figures, client_for):
    world = figures
    client = client_for(world.county_auditor.login)
    everything = problem_slugs(client.get(url(world.county, "/problems")))
    assert set(everything) == {world.village_a2.slug, world.village_b1.slug}
    by_activities = problem_slugs(client.get(url(world.county, "/problems", target="activities")))
    assert set(by_activities) == {world.village_a2.slug, world.village_b1.slug}
    by_members = problem_slugs(client.get(url(world.county, "/problems", target="members")))
    assert by_members == [world.village_b1.slug]
    communities = problem_slugs(client.get(url(world.county, "/problems", kind="community")))
    assert communities == []
    bad = client.get(url(world.county, "/problems", target="nonsense"))
    assert bad.status_code == 200 and "Unknown target" in text_of(bad)


def pager_links(response) -> list[str]:
    import html
    import re

    nav = text_of(response).split('<nav class="pager"')[1].split("</nav>")[0]
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', nav)]


def test_problems_list_pages_by_path_from_one_page_to_the_next(figures, client_for, monkeypatch):
    """Next and previous carry the path the page ends or starts at, and the page read from it
    is the one the offset gives, without walking the rows before it."""
    from app.dashboards import views as dashboard_views

    monkeypatch.setattr(dashboard_views, "PER_PAGE", 1)
    world = figures
    client = client_for(world.county_auditor.login)
    first = client.get(url(world.county, "/problems"))
    assert problem_slugs(first) == [world.village_a2.slug]
    next_href = pager_links(first)[-1]
    assert "after=" in next_href and "page=2" in next_href
    second = client.get(next_href)
    assert problem_slugs(second) == [world.village_b1.slug]
    by_offset = client.get(url(world.county, "/problems", page=2))
    assert problem_slugs(by_offset) == [world.village_b1.slug]
    prev_href = pager_links(second)[0]
    assert "before=" in prev_href and "page=1" in prev_href
    assert problem_slugs(client.get(prev_href)) == [world.village_a2.slug]
    # Not a path: ignored (read by offset), not an error.
    assert client.get(url(world.county, "/problems", after="x' OR 1=1")).status_code == 200


def test_problem_chips_name_the_failure_not_the_target(figures, make_client):
    world = figures
    page = text_of(make_client(world.county_auditor.login).get(url(world.county, "/problems")))
    chips = page.split('data-testid="missed-')[1:]
    assert chips  # the county has associations behind on their targets
    for chip in chips:
        key, _, rest = chip.partition('">')
        text = rest.split("</span>")[0]
        assert {
            "members": "会员比例低于",
            "activities": "活动少于",
            "checklist": "七有未合格",
            "dues": "会费收缴率低于",
            "rectification": "整改任务逾期",
        }[key] in text
    assert ">七有合格</span>" not in page


def test_problems_list_is_paginated_with_a_fixed_number_of_queries(
    world, client_for, count_queries
):
    client = client_for(world.county_auditor.login)

    def queries_for_problems() -> int:
        # A first request takes any once-a-minute session touch (the machine may be slow
        # between the two counts); the counted one is the page's own queries.
        client.get(url(world.county, "/problems"))
        with count_queries() as statements:
            response = client.get(url(world.county, "/problems"))
        assert response.status_code == 200
        return len(statements)

    few = queries_for_problems()
    for number in range(30):
        create_tree_node(f"extra-{number}", AssociationKind.VILLAGE, world.township_b)
    assert queries_for_problems() == few
    page = text_of(client.get(url(world.county, "/problems")))
    assert "33 associations" in page and 'data-testid="next-page"' in page
    second = problem_slugs(client.get(url(world.county, "/problems", page=2)))
    assert len(second) == 8


# --- query counts -------------------------------------------------------------------------------


def test_dashboard_query_count_does_not_grow_with_children(world, client_for, count_queries):
    client = client_for(world.county_auditor.login)

    def queries() -> int:
        client.get(url(world.county))  # takes any once-a-minute session touch
        with count_queries() as statements:
            assert client.get(url(world.county)).status_code == 200
        return len(statements)

    before = queries()
    for number in range(6):
        township = create_tree_node(f"more-{number}", AssociationKind.TOWNSHIP, world.county)
        create_tree_node(f"more-village-{number}", AssociationKind.VILLAGE, township)
    assert queries() == before


# --- export and report ------------------------------------------------------------------------


def test_export_opens_in_openpyxl_with_a_sheet_per_figure_group(figures, client_for):
    world = figures
    response = client_for(world.county_auditor.login).get(url(world.county, "/export.xlsx"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[:4] == ["会员", "活动", "七有", "联户关系"]
    assert workbook.sheetnames[-2:] == ["问题清单", "基层协会"]
    members = workbook["会员"]
    assert [c.value for c in members[1]] == [
        "协会",
        "类型",
        "会员数",
        "服务人口",
        "会员比例",
        "新发展会员",
        "示范协会",  # the model associations of the year in the subtree (app/dashboards/marks.py)
    ]
    # The share is stored rounded as the pages show it (6.7 %), so Excel shows the same digits.
    assert [c.value for c in members[2]][2:] == [4, 60, 0.067, 0, 0]
    assert members.cell(3, 1).value == world.township_a.name
    assert [c.value for c in members[3]][2:] == [4, 40, 0.1, 0, 0]
    activities = workbook["活动"]
    # Quarters, the year, associations with a quarter missing, then met / on track / at risk
    # / missed (a finished year: the first association met it, two missed it).
    assert [c.value for c in activities[2]][2:] == [2, 1, 1, 1, 5, 2, 2, 1, 0, 0, 2]
    problems = {row[0].value for row in workbook["问题清单"].iter_rows(min_row=2)}
    assert problems == {world.village_a2.name, world.village_b1.name}


def test_exports_and_reports_are_audit_logged(figures, client_for):
    world = figures
    client = client_for(world.county_auditor.login)
    client.get(url(world.county, "/export.xlsx"))
    client.get(url(world.county, "/report"))
    with UNSCOPED_BYPASS("test reads the audit log"):
        entries = db.session.execute(
            select(AuditLog.action, AuditLog.association_id, AuditLog.user_id, AuditLog.detail)
            .where(AuditLog.action.in_(("export", "print_report")))
            .order_by(AuditLog.id)
        ).all()
    assert [(e.action, e.association_id, e.user_id) for e in entries] == [
        ("export", world.county.id, world.county_auditor.id),
        ("print_report", world.county.id, world.county_auditor.id),
    ]
    assert entries[0].detail == {"what": "dashboard", "year": YEAR}


def test_printable_report_lists_each_child_by_figure_group(figures, client_for):
    world = figures
    page = text_of(client_for(world.county_auditor.login).get(url(world.county, "/report")))
    assert 'data-testid="report"' in page and "dashboards.css" in page
    assert page.count(world.township_a.name) >= 4  # one line per figure group


def test_opening_a_persons_record_from_above_is_audit_logged(figures, client_for):
    world = figures
    with tenant_context(scope_for(world.village_a1, writable=False)):
        member_id = db.session.scalar(select(Member.id).where(Member.name == "甲"))
    client_for(world.county_auditor.login).get(f"/a/{world.village_a1.slug}/members/{member_id}")
    client_for(world.secretary_a1.login).get(f"/a/{world.village_a1.slug}/members/{member_id}")
    with UNSCOPED_BYPASS("test reads the audit log"):
        views = db.session.execute(
            select(AuditLog.user_id, AuditLog.target_id).where(AuditLog.action == "view_person")
        ).all()
    assert views == [(world.county_auditor.id, member_id)]


# --- figures kept equal to the raw tables ---------------------------------------------------------


def test_figures_follow_changes_to_the_records(figures):
    world = figures
    assert rolled_up(world.county) == computed_naively(world.county)
    create_activity(world.village_b1, held_on=in_quarter(2))
    create_member(world.village_b1, "新会员")
    with tenant_context(scope_for(world.village_a1, writable=True)):
        member = db.session.scalar(select(Member).where(Member.name == "甲"))
        member.status = MemberStatus.LAPSED
        db.session.commit()
    set_population(world.village_a2, 5)
    after = rolled_up(world.county)
    assert after == computed_naively(world.county)
    assert (after["members"], after["population"]) == (4, 55)
    assert after["quarters"] == [2, 2, 1, 1]


def test_figures_follow_bulk_statements_too(figures):
    world = figures
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.execute(delete(Activity).where(Activity.held_on == in_quarter(3)))
        db.session.commit()
    after = rolled_up(world.county)
    assert after == computed_naively(world.county)
    assert after["quarters"] == [2, 1, 0, 1]


def test_refresh_command_rebuilds_the_table(figures, app):
    world = figures
    with UNSCOPED_BYPASS("test empties the figures tables"):
        db.session.execute(delete(AssociationFigures))
        db.session.execute(delete(SubtreeFigures))
        db.session.commit()
    assert rolled_up(world.county)["members"] == 0
    result = app.test_cli_runner().invoke(args=["dashboards", "refresh", "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert rolled_up(world.county) == computed_naively(world.county)
    assert rolled_up(world.county)["members"] == 4


def test_refresh_now_button_recomputes_the_subtree(figures, client_for):
    world = figures
    with UNSCOPED_BYPASS("test empties the figures tables"):
        db.session.execute(delete(AssociationFigures))
        db.session.execute(delete(SubtreeFigures))
        db.session.commit()
    response = client_for(world.county_auditor.login).post(url(world.county, "/refresh"))
    assert response.status_code == 303
    assert rolled_up(world.county) == computed_naively(world.county)


def test_a_secretary_of_one_association_cannot_refresh_another(figures, client_for):
    client = client_for(figures.secretary_a2.login)
    assert client.post(url(figures.village_a1, "/refresh")).status_code == 404


# --- figures of the other modules: dues and rectification tasks ----------------------------------


def test_dues_and_overdue_tasks_are_rolled_up_by_their_modules_rules(world, client_for):
    from datetime import timedelta

    from app.dues import payments as dues_payments
    from app.dues import services as dues_services
    from app.dues.figures import collection_figures
    from app.oversight.rectification import overdue_task_counts
    from tests.dues.makers import YEAR as DUES_YEAR
    from tests.dues.makers import create_charge, create_payment
    from tests.factories import create_task

    create_payment(world.village_a1, amount_fen=3000)  # a 3,000 fen charge paid in full
    create_charge(world.village_a1)  # another, unpaid
    create_payment(world.village_b1, amount_fen=1000)  # 1,000 of 3,000
    exempted = create_charge(world.village_b1)  # exempt: counts neither as due nor as paid
    voided = create_payment(world.village_a2, amount_fen=3000)  # voided: due, not paid
    with tenant_context(scope_for(world.village_b1, writable=True)):
        dues_services.exempt(
            db.session.get(Member, exempted.member_id),
            year=DUES_YEAR,
            reason="困难家庭",
            created_by_id=None,
        )
        db.session.commit()
    with tenant_context(scope_for(world.village_a2, writable=True)):
        dues_payments.void_payment(
            dues_payments.load_payment(voided.id), reason="录入错误", voided_by_id=None
        )
        db.session.commit()
    create_task(
        world.village_a2,
        opened_by=world.county_auditor,
        deadline_on=china_today() - timedelta(days=1),
    )
    create_task(world.village_b1, opened_by=world.county_auditor)  # not due yet
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        total = rollup.rollup(world.county, DUES_YEAR)
        dues = collection_figures(DUES_YEAR)
    assert (total.dues_expected_fen, total.dues_collected_fen) == (12000, 4000)
    assert (total.dues_expected_fen, total.dues_collected_fen) == (dues.due_fen, dues.paid_fen)
    with tenant_context(scope_for(world.county, writable=False)):
        assert total.overdue_rectifications == sum(overdue_task_counts(world.county).values()) == 1
    client = client_for(world.county_auditor.login)
    page = text_of(client.get(f"/a/{world.county.slug}/dashboard/?year={DUES_YEAR}"))
    assert "33.3%" in page[page.index('data-testid="tile-dues"') :][:400]
    rows = page.split('data-testid="child-row"')[1:]
    assert 'data-flag="red"' in rows[1].split("</td>")[7]  # township-b collects 33.3%
    this_year = text_of(client.get(f"/a/{world.county.slug}/dashboard/"))
    assert ">1<" in this_year[this_year.index('data-testid="tile-rectification"') :][:300]
    # Past years have no "overdue now" figure.
    past = text_of(client_for(world.county_auditor.login).get(url(world.county)))
    assert 'data-testid="tile-rectification"' not in past
