"""Bulk set-up of the associations below from a spreadsheet, on the web and on the command
line: every row checked first, a row-by-row report, nothing written until confirmed, then one
transaction with an invitation for each first secretary."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import Invitation
from app.associations import onboarding
from app.associations.bulk import writing
from app.associations.bulk.checking import check_table
from app.associations.models import PopulationRecord
from app.core.spreadsheets import read_table
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, AssociationKind, Role

HEADINGS = ["名称", "类型", "区划代码", "上级(名称或代码)", "服务人口", "秘书长", "手机或邮箱"]


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path):
    app.config["ASSOCIATION_IMPORT_DIR"] = str(tmp_path / "association-imports")
    return tmp_path / "association-imports"


def csv_bytes(rows, headings=HEADINGS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def upload(client, data: bytes, slug: str = "township-a", filename: str = "协会.csv"):
    return client.post(
        f"/a/{slug}/children/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def token_of(page: str) -> str:
    return re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', page).group(1)


def names_below(association) -> set[str]:
    return set(
        db.session.scalars(select(Association.name).where(Association.parent_id == association.id))
    )


def association_count() -> int:
    return db.session.scalar(select(func.count(Association.id)))


def invitations_of(association):
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalars(
            select(Invitation).where(Invitation.association_id == association.id)
        ).all()


GOOD_VILLAGES = [
    ["东村", "村", "340104001011", "", "1200", "陈秘书", "13900000011"],
    ["西村", "行政村", "340104001012", "township-a计生协", "１，５００", "", ""],
    ["南社区", "社区", "340104001013", "340104001000", "800", "李秘书", "li@example.cn"],
]


def test_secretary_uploads_sees_report_confirms_and_gets_invitation_links(
    app, world, client_for, outbox, import_dir
):
    client = client_for(world.township_a_secretary.login)
    assert "/a/township-a/children/import" in client.get("/a/township-a/children").text
    before = association_count()
    response = upload(client, csv_bytes(GOOD_VILLAGES))
    assert response.status_code == 200
    page = response.text
    assert "3 rows can be imported, 0 rows have problems." in page
    assert association_count() == before  # nothing written before confirming
    assert len(list(import_dir.glob("*.upload"))) == 1

    response = client.post("/a/township-a/children/import/confirm", {"token": token_of(page)})
    assert response.status_code == 200
    assert "3 associations created, 0 rows left out." in response.text
    # Two secretaries get their links by SMS; the uploader's page shows none of them.
    assert response.text.count("/invite/") == 0
    assert {m.to for m in outbox if "/invite/" in m.body} == {"13900000011", "li@example.cn"}
    assert names_below(world.township_a) >= {"东村", "西村", "南社区"}
    east = db.session.scalar(select(Association).where(Association.name == "东村"))
    west = db.session.scalar(select(Association).where(Association.name == "西村"))
    assert east.kind == AssociationKind.VILLAGE and east.slug == "340104001011"
    assert west.served_population == 1500 and west.kind == AssociationKind.VILLAGE
    assert west.path == f"{world.township_a.path}{west.id}/"
    [invitation] = invitations_of(east)
    assert invitation.role == Role.SECRETARY and invitation.login == "13900000011"
    assert invitations_of(west) == []
    with tenant_context(scope_for(west, writable=False)):
        assert db.session.scalar(select(PopulationRecord.population)) == 1500
    assert {message.to for message in outbox[-2:]} == {"13900000011", "li@example.cn"}
    assert list(import_dir.glob("*.upload")) == []  # the kept file is gone


def test_bad_rows_are_reported_row_by_row_and_only_valid_rows_are_written(app, world, client_for):
    rows = [
        ["好村", "村", "340104001021", "", "900", "", ""],
        ["越界村", "村", "340104100021", "", "900", "", ""],  # code outside township-a
        ["好村", "村", "340104001022", "", "900", "", ""],  # duplicate name under one parent
        ["零村", "村", "340104001023", "", "0", "", ""],
        ["负村", "村", "340104001024", "", "-5", "", ""],
        ["无主村", "村", "340104001025", "不存在的乡镇", "900", "", ""],
        ["他乡村", "村", "340104100026", "township-b计生协", "900", "", ""],
        ["坏号村", "村", "340104001027", "", "900", "王秘书", "1390000"],
        ["已有村", "村", "340104001028", "", "900", "", ""],
        ["village-a2计生协", "村", "340104001029", "", "900", "", ""],  # already exists
    ]
    client = client_for(world.township_a_secretary.login)
    before = association_count()
    page = upload(client, csv_bytes(rows)).text
    assert "2 rows can be imported, 8 rows have problems." in page
    problems = {
        (3, "Division code", "The division code must lie within the parent's (340104001…)."),
        (4, "Name", "township-a计生协 already has an association named 好村."),
        (5, "Population served", "Enter a population above zero."),
        (6, "Population served", "Enter a population above zero."),
        (
            7,
            "Parent (name or division code)",
            "No association “不存在的乡镇” below township-a计生协 or earlier in the file.",
        ),
        (
            8,
            "Parent (name or division code)",
            "“township-b计生协” is not below township-a计生协: you can only set up associations "
            "in your own part of the tree.",
        ),
        (
            9,
            "Secretary's mobile number or email",
            "Enter an email address or an 11-digit mobile number.",
        ),
        (11, "Name", "township-a计生协 already has an association named village-a2计生协."),
    }
    for number, column, message in problems:
        assert f'<td class="num">{number}</td><td>{column}</td><td>{message}</td>' in page.replace(
            "&#39;", "'"
        ), (number, message)
    assert association_count() == before
    client.post("/a/township-a/children/import/confirm", {"token": token_of(page)})
    assert association_count() == before + 2
    assert {"好村", "已有村"} <= names_below(world.township_a)


def test_cancel_discards_the_file_and_writes_nothing(app, world, client_for, import_dir):
    client = client_for(world.township_a_secretary.login)
    before = association_count()
    page = upload(client, csv_bytes(GOOD_VILLAGES)).text
    response = client.post("/a/township-a/children/import/cancel", {"token": token_of(page)})
    assert response.status_code == 303
    assert list(import_dir.glob("*.upload")) == []
    again = client.post("/a/township-a/children/import/confirm", {"token": token_of(page)})
    assert again.status_code == 422
    assert "This import has expired or was cancelled" in again.text
    assert association_count() == before


def test_a_kept_file_cannot_be_confirmed_from_another_association(app, world, client_for):
    page = upload(client_for(world.township_a_secretary.login), csv_bytes(GOOD_VILLAGES)).text
    other = client_for(world.secretary_b1.login)
    before = association_count()
    response = other.post("/a/village-b1/children/import/confirm", {"token": token_of(page)})
    assert response.status_code == 422
    assert association_count() == before


def test_unreadable_file_and_missing_columns_are_refused(app, world, client_for):
    client = client_for(world.township_a_secretary.login)
    response = upload(client, b"\x00\x01\x02binary" * 50)
    assert response.status_code == 422
    assert "The file is not a spreadsheet" in response.text
    response = upload(client, csv_bytes([["东村"]], headings=["名称"]))
    assert response.status_code == 422
    assert "which were not found: Population served" in response.text


def test_grassroots_association_cannot_import(app, world, client_for):
    response = upload(client_for(world.secretary_a1.login), csv_bytes(GOOD_VILLAGES), "village-a1")
    assert response.status_code == 422
    assert "A grassroots association cannot have associations under it." in response.text


def _county_file(tmp_path, count_villages=2):
    rows = [["新乡镇", "", "340104200000", "", "30000", "周秘书", "13900000099"]]
    for index in range(count_villages):
        rows.append(
            [f"新乡镇{index}村", "村", f"340104200{index + 1:03d}", "340104200000", "500", "", ""]
        )
    rows.append(["孙村", "村", "340104001099", "township-a计生协", "700", "", ""])
    path = tmp_path / "county.csv"
    path.write_bytes(csv_bytes(rows))
    return path


def test_cli_dry_run_reports_and_writes_nothing_then_real_run_writes(app, world, tmp_path):
    path = _county_file(tmp_path)
    runner = app.test_cli_runner()
    before = association_count()
    result = runner.invoke(
        args=["associations", "import", str(path), "--under", "county", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "4 valid rows, 0 rejected." in result.output
    assert "Dry run: nothing was written." in result.output
    assert association_count() == before

    args = ["associations", "import", str(path), "--under", "county"]
    result = runner.invoke(args=args)
    assert result.exit_code == 2  # the invitation links need the site's address
    assert association_count() == before
    result = runner.invoke(args=[*args, "--base-url", "https://xiehui.example.cn"])
    assert result.exit_code == 0, result.output
    assert "Created 4 associations" in result.output
    assert "新乡镇: 周秘书 invited at 139****0099" in result.output
    assert "/invite/" not in result.output  # the link goes to the secretary, not the operator
    township = db.session.scalar(select(Association).where(Association.name == "新乡镇"))
    assert township.kind == AssociationKind.TOWNSHIP and township.parent_id == world.county.id
    assert names_below(township) == {"新乡镇0村", "新乡镇1村"}
    assert "孙村" in names_below(world.township_a)


def test_cli_reports_problems_one_per_line(app, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["子村", "村", "340104300001", "后来的乡镇", "500", "", ""],
                ["后来的乡镇", "乡镇", "340104300000", "", "9000", "", ""],
                ["坏村", "村", "340104001098", "township-a计生协", "-1", "", ""],
            ]
        )
    )
    result = app.test_cli_runner().invoke(
        args=["associations", "import", str(path), "--under", "county", "--dry-run"]
    )
    assert result.exit_code == 0
    assert "1 valid rows, 2 rejected." in result.output
    # Messages in the site's default language (Chinese), one line per problem.
    assert "row 2, 上级(名称或代码): 第 3 行(其上级)在文件中排在后面" in result.output
    assert "row 4, 服务人口: 请输入大于零的人口数。" in result.output


def test_cli_exits_non_zero_for_an_unreadable_file(app, world, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["associations", "import", str(path), "--under", "county"])
    assert result.exit_code == 1
    result = runner.invoke(
        args=["associations", "import", str(tmp_path / "none.csv"), "--under", "county"]
    )
    assert result.exit_code == 1
    result = runner.invoke(args=["associations", "import", str(path), "--under", "nowhere"])
    assert result.exit_code == 2


def test_one_transaction_a_failure_midway_leaves_nothing(app, world, tmp_path, monkeypatch):
    path = _county_file(tmp_path)
    before = association_count()
    calls = []

    def failing_send(*args, **kwargs):
        # Every association, and the first one's population and invitation, are inserted.
        calls.append(1)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(accounts, "send_invitation", failing_send)
    result = app.test_cli_runner().invoke(
        args=["associations", "import", str(path), "--under", "county", "--base-url", "http://x"]
    )
    assert result.exit_code != 0 and calls
    db.session.rollback()
    assert association_count() == before
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        assert db.session.scalar(select(func.count(PopulationRecord.id))) == 0
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_parent_outside_the_uploaders_subtree_by_code_is_refused(app, world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([["越村", "村", "340104001097", "340104001000", "500", "", ""]]))
    with tenant_context(scope_for(world.township_b, writable=True)):
        report = check_table(read_table(path), world.township_b)
    [(number, problem)] = report.problems
    assert number == 2 and problem.column == "parent"
    assert "不在township-b计生协之下" in problem.message


def test_two_thousand_rows_are_checked_and_written_with_an_invitation_each(app, world, tmp_path):
    rows = []
    for township in range(20):
        code = f"340104{300 + township:03d}000"
        rows.append(
            [
                f"乡镇{township}",
                "乡镇",
                code,
                "",
                "20000",
                f"秘书{township}",
                f"1370000{township:04d}",
            ]
        )
        for village in range(99):
            rows.append(
                [
                    f"乡镇{township}村{village}",
                    "村",
                    f"340104{300 + township:03d}{village + 1:03d}",
                    code,
                    "500",
                    f"村秘书{township}-{village}",
                    f"136{township:02d}{village:06d}",
                ]
            )
    assert len(rows) == 2000
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    with (
        app.test_request_context(),
        tenant_context(scope_for(world.county, writable=True)),
    ):
        report = check_table(read_table(path), world.county)
        assert report.problems == []
        result = writing.write(report, world.county, onboarding.OPERATOR, inviter="operator")
    db.session.commit()
    # How fast is for the benchmark (bench/), not for a test on a machine of unknown load.
    assert len(result.created) == 2000
    assert all(entry.invited for entry in result.created)


def test_unreadable_kind_and_population_get_one_clear_message_each(app, world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([["怪村", "城堡", "", "", "很多", "", ""]]))
    with tenant_context(scope_for(world.township_a, writable=True)):
        report = check_table(read_table(path), world.township_a)
    columns = [problem.column for _, problem in report.problems]
    assert columns == ["kind", "served_population"]


# ---- the table in the sheet: the same reader and choices as the member import ------------


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post_layout(client, page: str, **choices):
    shown = re.search(r'name="shown_sheet" value="([^"]*)"', page)
    data = {"token": token_of(page), "shown_sheet": shown.group(1) if shown else ""}
    data.update({name: str(value) for name, value in choices.items()})
    return client.post("/a/township-a/children/import/layout", data)


def confirm_data(page: str) -> dict:
    """What the confirm form sends back: the token and the choices it carries."""
    form = re.search(r'data-testid="bulk-confirm">(.*?)</form>', page, re.S).group(1)
    return dict(re.findall(r'name="(token|sheet|heading_row)"[^>]*value="([^"]*)"', form))


def test_a_workbook_with_two_sheets_asks_which_and_imports_the_chosen_one(
    app, world, client_for, import_dir
):
    notes = [["说明", "备注"], ["名称", "填协会全称"], ["服务人口", "填户籍人口"]]
    villages = [HEADINGS, ["北村", "村", "340104001031", "", "600", "", ""]]
    villages.append(["中村", "村", "340104001032", "", "700", "", ""])
    client = client_for(world.township_a_secretary.login)
    before = association_count()
    page = upload(
        client, xlsx_bytes({"填表说明": notes, "村级协会": villages}), filename="协会.xlsx"
    ).text
    assert 'data-testid="choose-sheet"' in page
    assert "This workbook has 2 sheets with data." in page
    assert 'data-testid="bulk-confirm"' not in page and "rows can be imported" not in page
    # Nothing importable until a sheet is chosen, even by posting the confirm form directly.
    refused = client.post("/a/township-a/children/import/confirm", {"token": token_of(page)})
    assert refused.status_code == 422
    assert "Choose the sheet that holds the associations first." in refused.text
    assert association_count() == before

    page = post_layout(client, page, sheet="村级协会").text
    assert 'data-testid="choose-sheet"' not in page
    assert "2 rows can be imported, 0 rows have problems." in page
    assert '<option value="村级协会" selected>' in page
    sent = confirm_data(page)
    assert sent["sheet"] == "村级协会"
    done = client.post("/a/township-a/children/import/confirm", sent)
    assert done.status_code == 200
    assert "2 associations created, 0 rows left out." in done.text
    assert {"北村", "中村"} <= names_below(world.township_a)
    assert association_count() == before + 2
    assert list(import_dir.glob("*.upload")) == []


def test_a_title_row_read_as_the_heading_is_moved_by_the_user_and_kept_on_confirm(
    app, world, client_for
):
    # A row explaining each column sits above the headings and reads more like headings.
    rows = [
        ["名称：协会全称", "类型：村或社区", "上级：可不填", "服务人口：人数"],
        ["名称", "类型", "服务人口"],
        ["东湖村", "村", "1200"],
        ["西湖村", "村", "900"],
    ]
    client = client_for(world.township_a_secretary.login)
    before = association_count()
    page = upload(client, xlsx_bytes({"Sheet1": rows}), filename="协会.xlsx").text
    assert "Headings found on row 1." in page
    assert 'data-testid="heading-row"' in page

    moved = post_layout(client, page, heading_row=2)
    assert moved.status_code == 200
    page = moved.text
    assert "Headings found on row 2." in page
    assert "2 rows can be imported, 0 rows have problems." in page
    sent = confirm_data(page)
    assert sent["heading_row"] == "2" and "sheet" not in sent
    done = client.post("/a/township-a/children/import/confirm", sent)
    assert "2 associations created, 0 rows left out." in done.text
    assert {"东湖村", "西湖村"} <= names_below(world.township_a)
    assert association_count() == before + 2

    # An empty row chosen: said so, the sheet is shown as found.
    page = upload(
        client, xlsx_bytes({"Sheet1": [*rows[:2], [], *rows[2:]]}), filename="协会.xlsx"
    ).text
    refused = post_layout(client, page, heading_row=3)
    assert refused.status_code == 422
    assert "Row 3 is empty: choose the row that holds the headings." in refused.text
    assert "Headings found on row 1." in refused.text


def test_rows_of_totals_and_signatures_are_skipped_and_listed_with_the_reason(
    app, world, client_for
):
    rows = [
        ["宁村", "村", "340104001041", "", "500", "", ""],
        ["安村", "村", "340104001042", "", "400", "", ""],
        ["合计", "", "", "", "900", "", ""],
        ["填表人：周某", "", "", "", "", "", "审核人：吴某"],
    ]
    client = client_for(world.township_a_secretary.login)
    page = upload(client, csv_bytes(rows)).text
    assert "2 rows can be imported, 0 rows have problems." in page
    skipped = re.search(r'data-testid="skipped-rows">(.*?)</details>', page, re.S).group(1)
    assert "2 rows are not associations and are skipped" in skipped
    assert "Row 4 — A row of totals: <span" in skipped
    assert "Row 5 — Signatures or dates of the form: <span" in skipped
    client.post("/a/township-a/children/import/confirm", confirm_data(page))
    assert {"宁村", "安村"} <= names_below(world.township_a)
    assert "合计" not in names_below(world.township_a)
