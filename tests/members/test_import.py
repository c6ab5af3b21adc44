"""Importing members from spreadsheets: mapping, row report, fixes, confirmation, hostile files,
and the command-line import."""

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from app.core.clock import china_today
from app.core.spreadsheets import SpreadsheetError, read_table, to_date
from app.extensions import db
from app.members import importing
from app.members.idnumbers import check_digit
from app.members.models import Household, Member
from tenants.context import scope_for, tenant_context


def valid_id(first17: str = "34010419900101123") -> str:
    return first17 + check_digit(first17)


GOOD_ID = valid_id()
BAD_ID = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")


@pytest.fixture
def app_config(tmp_path):
    return {"MEMBER_IMPORT_DIR": str(tmp_path / "imports")}


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADINGS = [
    "姓名",
    "性别",
    "联系电话",
    "身份证号码",
    "住址",
    "入会时间",
    "是否中心户",
    "所属中心户",
]


def sample_rows():
    return [
        HEADINGS,
        [
            "张三",
            "男",
            "138 0000 0001",
            valid_id("34010419700101001"),
            "幸福路1号",
            "2020-05-01",
            "是",
            "",
        ],
        [
            "李四",
            "女",
            "13800000002",
            valid_id("34010419800202002"),
            "幸福路2号",
            43952,
            "否",
            "幸福路1号",
        ],
        ["王五", "", "１３８００００００03", BAD_ID, "幸福路3号", "2021年3月8日", "", "张三"],
    ]


def upload(client, data: bytes, filename: str = "会员.xlsx"):
    return client.post(
        "/a/village-a1/members/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def members_of(world):
    with tenant_context(scope_for(world.village_a1, writable=False)):
        return {m.name: m for m in db.session.scalars(select(Member))}


def test_common_chinese_headings_are_recognised():
    mapping = importing.guess_mapping(
        [
            "序号",
            "名字",
            "手机号码",
            "身份证号（必填）",
            "家庭住址",
            "入会日期",
            "中心户",
            "所属中心户",
            "网格 ",
        ]
    )
    assert mapping == {
        "1": "name",
        "2": "phone",
        "3": "id_number",
        "4": "address",
        "5": "joined_on",
        "6": "is_central",
        "7": "central_household",
        "8": "grid",
    }


def test_dates_in_three_formats_and_excel_serials():
    assert to_date("2024-01-15") == date(2024, 1, 15)
    assert to_date("2024/1/15") == date(2024, 1, 15)
    assert to_date("2024年1月15日") == date(2024, 1, 15)
    assert to_date(45306) == date(2024, 1, 15)
    assert to_date("45306") == date(2024, 1, 15)
    with pytest.raises(ValueError):
        to_date("15th of January")


def test_secretary_imports_fixes_a_flagged_row_and_confirms(app, world, make_client, tmp_path):
    client = make_client(world.secretary_a1.login)
    response = upload(client, xlsx_bytes(sample_rows()))
    assert response.status_code == 303
    import_url = response.location
    mapping_page = client.get(import_url).text
    assert "联系电话" in mapping_page and "3401**********" in mapping_page
    assert valid_id("34010419700101001") not in mapping_page  # samples are masked
    form = {f"column_{i}": name for i, name in importing.guess_mapping(HEADINGS).items()}
    response = client.post(f"{import_url}/mapping", form)
    assert response.status_code == 303
    report = client.get(import_url).text
    assert "2 行可以导入" in report and "校验位" in report
    # The uploaded file is gone once its rows are read.
    assert list((tmp_path / "imports").iterdir()) == []
    response = client.post(
        f"{import_url}/rows/4",
        {
            "name": "王五",
            "id_number": valid_id("34010419900303003"),
            "address": "幸福路3号",
            "central_household": "张三",
            "phone": "13800000003",
            "joined_on": "2021年3月8日",
        },
    )
    assert response.status_code == 303
    report = client.get(import_url).text
    assert "3 行可以导入" in report
    assert members_of(world) == {}  # nothing written before confirmation
    assert client.post(f"{import_url}/confirm").status_code == 303
    assert "已导入 3 名会员" in client.get(import_url).text
    members = members_of(world)
    assert set(members) == {"张三", "李四", "王五"}
    assert members["李四"].joined_on == date(2020, 5, 1)
    assert members["王五"].joined_on == date(2021, 3, 8)
    with tenant_context(scope_for(world.village_a1, writable=False)):
        households = {h.address: h for h in db.session.scalars(select(Household))}
    central = households["幸福路1号"]
    assert central.is_central
    assert households["幸福路2号"].central_household_id == central.id
    assert households["幸福路3号"].central_household_id == central.id
    found = client.get("/a/village-a1/members/", query_string={"q": "ww"}).text
    assert "王五" in found


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.xlsx", "0 字节"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "photo.xlsx", "不是表格文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls", ".xls"),
        (b"PK\x03\x04 truncated zip", "broken.xlsx", "不是表格文件"),
        ("姓名,电话\n".encode(), "headers-only.csv", "没有数据行"),
        ("甲,乙\n1,2\n".encode(), "no-headings.csv", "没有找到标题行"),
    ],
)
def test_unreadable_files_answer_with_a_clear_message(
    app, world, make_client, data, filename, message
):
    response = upload(make_client(world.secretary_a1.login), data, filename)
    if message is None:
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert message in response.text


def test_sheet_with_huge_dimensions_is_refused_before_loading(app, world, make_client):
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "姓名"
    sheet["A2"] = "张三"
    sheet.cell(row=1_000_000, column=16_000, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(make_client(world.secretary_a1.login), buffer.getvalue())
    assert response.status_code == 422 and "工作表过大" in response.text


def test_zip_bomb_is_refused(app, world, make_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (40 * 1024 * 1024))
    response = upload(make_client(world.secretary_a1.login), buffer.getvalue())
    assert response.status_code == 422 and "解压后" in response.text


def test_wrong_headings_need_a_name_column(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    response = upload(client, "性别,电话\n男,13800000001\n".encode(), "x.csv")
    assert response.status_code == 303
    response = client.post(f"{response.location}/mapping", {"column_0": "phone"})
    assert response.status_code == 422 and "请指定姓名所在的列" in response.text


def test_gbk_csv_with_full_width_digits_and_stray_spaces(app, world, tmp_path):
    path_rows = "姓名, 手机 \n 张 三 ,１３８００００００01\n"
    with tenant_context(scope_for(world.village_a1, writable=True)):
        table = read_table(_write(tmp_path, path_rows.encode("gb18030")))
        records = importing.records_from_table(table, importing.guess_mapping(table.headers))
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert rows[0].valid and rows[0].member.phone == "13800000001"
    assert rows[0].member.name == "张 三"


def _write(directory: Path, data: bytes, suffix: str = ".csv") -> Path:
    path = directory / f"upload{suffix}"
    path.write_bytes(data)
    return path


def test_row_report_flags_duplicates_checksums_and_registered_people(app, world):
    from tests.factories import create_member

    create_member(world.village_a1, "老会员", phone="13900000000")
    records = [
        (2, {"name": "甲", "id_number": GOOD_ID, "phone": "13800000001"}),
        (3, {"name": "甲", "id_number": GOOD_ID, "phone": "13800000001"}),
        (4, {"name": "乙", "id_number": GOOD_ID, "phone": "13800000004"}),
        (5, {"name": "丙", "id_number": BAD_ID}),
        (6, {"name": "丁", "phone": "13900000000"}),
        (7, {"name": "", "joined_on": (china_today() + timedelta(days=3)).isoformat()}),
        (8, {"name": "戊", "joined_on": "去年", "gender": "未知"}),
    ]
    with tenant_context(scope_for(world.village_a1, writable=True)):
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
    codes = {row.number: [p["code"] for p in row.problems] for row in rows}
    assert codes[2] == []
    assert codes[3] == ["duplicate_row"]
    assert codes[4] == ["duplicate_in_file"]
    assert codes[5] == ["id_checksum"]
    assert codes[6] == ["phone_registered"]
    assert set(codes[7]) == {"required", "date_future"}
    assert set(codes[8]) == {"date", "gender"}
    with app.test_request_context():
        message = importing.problem_message(rows[4].problems[0])
    assert "老会员" in message


def test_excel_number_id_is_flagged(app, world, tmp_path):
    rows = [["姓名", "身份证号"], ["张三", 340104199001011234.0]]
    table = read_table(_write(tmp_path, xlsx_bytes(rows), ".xlsx"))
    with tenant_context(scope_for(world.village_a1, writable=True)):
        records = importing.records_from_table(table, importing.guess_mapping(table.headers))
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert rows[0].problems[0]["code"] == "id_numeric_cell"


def test_linkage_limit_applies_to_imported_rows(app, world):
    from app.members import households

    records = [(2, {"name": "中", "address": "中心1号", "is_central": "是"})]
    records += [
        (3 + n, {"name": f"联{n}", "address": f"联户{n}号", "central_household": "中心1号"})
        for n in range(3)
    ]
    with tenant_context(scope_for(world.village_a1, writable=True)):
        households.set_linkage_limit(2)
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert [p["code"] for p in rows[-1].problems] == ["central_full"]


def test_cli_import_prints_the_report_and_writes_unless_dry_run(app, world, tmp_path):
    path = tmp_path / "members.xlsx"
    path.write_bytes(xlsx_bytes(sample_rows()))
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["members", "import", str(path), "--association", "village-a1", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "2 valid rows, 1 rejected" in result.output
    assert "row 4" in result.output and "校验位" in result.output
    assert members_of(world) == {}
    result = runner.invoke(args=["members", "import", str(path), "--association", "village-a1"])
    assert result.exit_code == 0, result.output
    assert set(members_of(world)) == {"张三", "李四"}
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"")
    result = runner.invoke(args=["members", "import", str(garbage), "--association", "village-a1"])
    assert result.exit_code == 1


def test_read_table_refuses_too_many_rows(tmp_path):
    from app.core.spreadsheets import Limits

    path = tmp_path / "big.csv"
    path.write_text("姓名\n" + "张三\n" * 30)
    with pytest.raises(SpreadsheetError):
        read_table(path, limits=Limits(max_rows=20))


def test_files_of_abandoned_imports_are_deleted_after_a_day(app, world, make_client, tmp_path):
    import os
    import time

    directory = tmp_path / "imports"
    directory.mkdir()
    stale = directory / ("0" * 32 + ".upload")
    stale.write_bytes(b"old")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    fresh = directory / ("1" * 32 + ".upload")
    fresh.write_bytes(b"new")
    upload(make_client(world.secretary_a1.login), xlsx_bytes(sample_rows()))
    assert not stale.exists() and fresh.exists()
