"""The import on rosters as associations keep them (tests/members/roster_corpus.py): the table
is found in every one, what is not a member is skipped with the reason, and the counts are the
expected ones; then a few go through the pages from upload to confirmation."""

import io
from collections import Counter

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.core.spreadsheets import SpreadsheetError, read_table
from app.extensions import db
from app.members import importing
from app.members.models import Household, Member, MemberImport
from tenants.context import scope_for, tenant_context
from tests.members.roster_corpus import BUILDERS, build_corpus, linkage, title_row


@pytest.fixture
def app_config(tmp_path):
    return {"MEMBER_IMPORT_DIR": str(tmp_path / "imports")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {roster.filename: roster for roster in build_corpus(tmp_path_factory.mktemp("rosters"))}


def test_the_corpus_has_every_trap_in_at_least_twelve_files(corpus):
    assert len(corpus) >= 12
    assert {path.suffix for path in (r.path for r in corpus.values())} == {".xlsx", ".xls", ".csv"}
    sizes = [roster.members for roster in corpus.values()]
    assert min(sizes) == 10 and max(sizes) >= 1990


@pytest.mark.parametrize(
    "position", range(len(BUILDERS)), ids=[builder.__name__ for builder in BUILDERS]
)
def test_each_roster_is_read_with_the_expected_counts(app, world, corpus, position):
    roster = list(corpus.values())[position]
    table = read_table(roster.path, headings=importing.HEADING_WORDS)
    assert table.heading_rows == roster.heading_rows
    assert len(table.rows) == roster.members
    reasons = Counter(skipped.reason for skipped in table.skipped)
    assert reasons == Counter({reason: n for reason, n in roster.skipped.items() if n})
    assert len(table.sheets) == roster.sheets
    if roster.sheet:
        assert table.sheet == roster.sheet and table.sheet_choice_needed
    mapping = importing.guess_mapping(table.headers)
    importing.check_mapping(mapping)
    assert {"name", "gender", "id_number", "phone", "address"} <= set(mapping.values())
    # The 序号 column and the landline are never taken for a field.
    assert all("序号" not in header and header != "No." for header in table.headers)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        records = importing.records_from_table(table, mapping)
        checked = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert sum(row.valid for row in checked) == roster.valid
    assert all(row.member.name not in ("合计", "小计", "总计") for row in checked)


def upload(client, path, filename=None):
    return client.post(
        "/a/village-a1/members/import",
        {"file": (io.BytesIO(path.read_bytes()), filename or path.name)},
        content_type="multipart/form-data",
    )


def map_guessed(client, import_url):
    db.session.expire_all()  # the pages changed the import in their own transactions
    with tenant_context(scope_for_import(import_url)):
        member_import = db.session.get(MemberImport, int(import_url.rsplit("/", 1)[-1]))
        form = {f"column_{index}": name for index, name in member_import.mapping.items()}
    return client.post(f"{import_url}/mapping", form)


def scope_for_import(import_url):
    from tenants.models import Association

    association = db.session.scalar(select(Association).where(Association.slug == "village-a1"))
    return scope_for(association, writable=True)


def count(world, model) -> int:
    with tenant_context(scope_for(world.village_a1, writable=False)):
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_roster_with_a_title_row_imports_from_the_pages(app, world, make_client, tmp_path):
    roster = title_row(tmp_path)
    client = make_client(world.secretary_a1.login)
    response = upload(client, roster.path)
    assert response.status_code == 303
    import_url = response.location
    page = client.get(import_url).text
    assert "标题在第 3 行" in page and "column-0" in page
    assert map_guessed(client, import_url).status_code == 303
    assert "50 行可以导入" in client.get(import_url).text
    assert client.post(f"{import_url}/confirm").status_code == 303
    assert count(world, Member) == 50


def test_linked_rows_wait_for_their_central_row_and_import_once_it_is_fixed(
    app, world, make_client, tmp_path
):
    roster = linkage(tmp_path)
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, roster.path).location
    map_guessed(client, import_url)
    report = client.get(import_url).text
    assert "25 行可以导入" in report
    # The central household on spreadsheet row 8 (title, headings, then people[5]) has a bad ID
    # number; its four linked rows say so and are not written half-linked.
    assert report.count("它所属的中心户(第 8 行)有问题") == 4
    with tenant_context(scope_for(world.village_a1, writable=True)):
        member_import = db.session.get(MemberImport, int(import_url.rsplit("/", 1)[-1]))
        values = importing.row_values(importing.staged_row(member_import, 8))
    from tests.members.roster_corpus import id_number_for

    values["id_number"] = id_number_for(1705, female=False)
    response = client.post(f"{import_url}/rows/8", values, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "30 行可以导入" in response.text and "第 8 行可以导入了" in response.text
    assert client.post(f"{import_url}/confirm").status_code == 303
    assert count(world, Member) == 30
    with tenant_context(scope_for(world.village_a1, writable=False)):
        households = {h.address: h for h in db.session.scalars(select(Household))}
    central = households["幸福路1706号"]
    assert central.is_central
    assert all(
        households[f"幸福路{n}号"].central_household_id == central.id for n in range(1707, 1711)
    )


def test_a_central_household_named_in_the_file_is_not_matched_to_a_namesake_in_the_register(
    app, world
):
    from tests.factories import create_household, create_member

    elsewhere = create_household(world.village_a1, address="别处1号", central=True)
    create_member(world.village_a1, "张三", household_id=elsewhere.id)
    records = [
        (2, {"name": "张三", "address": "幸福路1号", "is_central": "是"}),
        (3, {"name": "李四", "address": "幸福路2号", "central_household": "张三"}),
        (4, {"name": "王五", "address": "幸福路3号", "central_household": "赵六"}),
    ]
    with tenant_context(scope_for(world.village_a1, writable=True)):
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
        assert rows[1].valid and rows[1].central_key == "幸福路1号"
        # A name alone is not enough in the register: the row says which address to write.
        only_register = [(2, {"name": "孙七", "address": "幸福路4号", "central_household": "张三"})]
        row = importing.check_rows(only_register, importing.RegisterSnapshot.load())[0]
        assert [p["code"] for p in row.problems] == ["central_by_name_only"]
        assert row.problems[0]["params"]["addresses"] == "别处1号"
        by_address = [(2, {"name": "孙七", "address": "幸福路4号", "central_household": "别处1号"})]
        assert importing.check_rows(by_address, importing.RegisterSnapshot.load())[0].valid
    assert [p["code"] for p in rows[2].problems] == ["central_not_found"]


def test_a_failed_job_says_so_writes_nothing_logs_the_row_and_can_be_retried(
    app, world, make_client, tmp_path, monkeypatch, caplog
):
    roster = title_row(tmp_path)
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, roster.path).location
    map_guessed(client, import_url)
    real_write = importing.staging.write_rows

    def broken(checked):
        real_write(checked)
        importing.current_row.set(17)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importing.staging, "write_rows", broken)
    assert client.post(f"{import_url}/confirm").status_code == 303
    page = client.get(import_url).text
    assert 'data-status="failed"' in page
    assert "导入在第 17 行出错而停止,名册中没有写入任何数据" in page
    assert "retry-import" in page and "cancel-import" in page
    assert count(world, Member) == 0 and count(world, Household) == 0
    assert any("failed at row 17" in record.getMessage() for record in caplog.records)
    monkeypatch.setattr(importing.staging, "write_rows", real_write)
    assert client.post(f"{import_url}/retry").status_code == 303
    assert 'data-status="done"' in client.get(import_url).text
    assert count(world, Member) == 50


def test_an_import_stuck_in_progress_can_be_cancelled(app, world, make_client, tmp_path):
    roster = title_row(tmp_path)
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, roster.path).location
    map_guessed(client, import_url)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        member_import = db.session.get(MemberImport, int(import_url.rsplit("/", 1)[-1]))
        importing.mark_step_started(member_import, "apply")  # as if the worker died
        db.session.commit()
    assert "停止并取消本次导入" in client.get(import_url).text
    assert client.post(f"{import_url}/cancel").status_code == 303
    assert 'data-status="cancelled"' in client.get(import_url).text
    assert client.post(f"{import_url}/confirm").status_code == 409
    assert count(world, Member) == 0


def _mismatched_roster(tmp_path):
    from tests.members.roster_corpus import ZH, cells_of, roster_rows

    people = roster_rows(12, start=3000)
    for person in people[:3]:
        person.gender = "男" if person.gender == "女" else "女"
    people[3].phone = "1234"
    workbook = Workbook()
    workbook.active.append(["会员花名册"])
    workbook.active.append(ZH)
    for person in people:
        workbook.active.append(cells_of(person))
    path = tmp_path / "mismatched.xlsx"
    workbook.save(path)
    return path


def test_bulk_fixes_take_the_gender_from_the_id_number_and_leave_out_the_rest(
    app, world, make_client, tmp_path
):
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, _mismatched_roster(tmp_path)).location
    map_guessed(client, import_url)
    report = client.get(import_url).text
    assert "8 行可以导入" in report and "按身份证号更正性别(3 行)" in report
    response = client.post(f"{import_url}/fix-genders", headers={"HX-Request": "true"})
    assert "11 行可以导入" in response.text and "已按身份证号更正 3 行的性别" in response.text
    download = client.get(f"{import_url}/problems.xlsx")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    problems = read_table(_saved(tmp_path, download.data), headings=importing.HEADING_WORDS)
    assert len(problems.rows) == 1 and "手机号" in " ".join(map(str, problems.rows[0]))
    response = client.post(f"{import_url}/skip-problems", headers={"HX-Request": "true"})
    assert "11 行可以导入" in response.text and "0 行有问题" in response.text
    client.post(f"{import_url}/confirm")
    assert count(world, Member) == 11


def _saved(tmp_path, data: bytes):
    path = tmp_path / "rows-to-correct.xlsx"
    path.write_bytes(data)
    return path


def test_the_downloaded_problem_rows_come_back_mapped_and_import(app, world, make_client, tmp_path):
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, _mismatched_roster(tmp_path)).location
    map_guessed(client, import_url)
    data = client.get(f"{import_url}/problems.xlsx").data
    client.post(f"{import_url}/skip-problems")
    client.post(f"{import_url}/confirm")
    assert count(world, Member) == 8
    # The secretary corrects the four rows in Excel: genders and the mobile number.
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    gender = headers.index("性别")
    phone = next(index for index, header in enumerate(headers) if "手机" in header)
    for row in sheet.iter_rows(min_row=2):
        if "性别与身份证号不符" in row[-1].value:  # the problems column
            row[gender].value = "女" if row[gender].value == "男" else "男"
        if row[phone].value == "1234":
            row[phone].value = "13912345678"
    path = tmp_path / "corrected.xlsx"
    workbook.save(path)
    second = upload(client, path).location
    db.session.expire_all()
    with tenant_context(scope_for(world.village_a1, writable=False)):
        member_import = db.session.get(MemberImport, int(second.rsplit("/", 1)[-1]))
        assert member_import.total_rows == 4
        assert set(member_import.mapping.values()) >= {"name", "gender", "phone", "id_number"}
    map_guessed(client, second)
    report = client.get(second).text
    assert "4 行可以导入" in report, report[report.find("import-summary") :][:3000]
    client.post(f"{second}/confirm")
    assert count(world, Member) == 12


def test_the_mapping_chosen_is_offered_next_time(app, world, make_client, tmp_path):
    client = make_client(world.secretary_a1.login)
    path = tmp_path / "odd.csv"
    path.write_text("会员称呼,性别,备用电话\n张三,男,13800000001\n", encoding="utf-8")
    import_url = upload(client, path).location
    response = client.post(
        f"{import_url}/mapping", {"column_0": "name", "column_1": "gender", "column_2": ""}
    )
    assert response.status_code == 303
    second = upload(client, path).location
    page = client.get(second).text
    assert "已按您上次的选择设置" in page
    with tenant_context(scope_for(world.village_a1, writable=False)):
        member_import = db.session.get(MemberImport, int(second.rsplit("/", 1)[-1]))
        assert member_import.mapping == {"0": "name", "1": "gender"}


def test_a_workbook_with_several_sheets_asks_which_one_and_the_heading_row_can_move(
    app, world, make_client, corpus
):
    client = make_client(world.secretary_a1.login)
    import_url = upload(client, corpus["12-several-sheets.xlsx"].path).location
    page = client.get(import_url).text
    assert "请选择会员所在的那一个" in page and 'data-testid="check-rows"' not in page
    assert map_guessed(client, import_url).status_code == 422
    response = client.post(
        f"{import_url}/layout", {"sheet": "花名册"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'data-testid="check-rows"' in response.text and "标题在第 2 行" in response.text
    # The heading moved onto the first member by mistake: nothing maps; moved back, all is well.
    hx = {"HX-Request": "true"}
    response = client.post(
        f"{import_url}/layout", {"sheet": "花名册", "heading_row": "3"}, headers=hx
    )
    assert "标题在第 3 行" in response.text
    assert map_guessed(client, import_url).status_code == 422
    response = client.post(
        f"{import_url}/layout", {"sheet": "花名册", "heading_row": "2"}, headers=hx
    )
    assert "标题在第 2 行" in response.text
    assert map_guessed(client, import_url).status_code == 303
    assert "35 行可以导入" in client.get(import_url).text


def _password_protected() -> bytes:
    # What Excel writes for "Encrypt with Password": an OLE compound file holding the
    # EncryptionInfo and EncryptedPackage streams (names in UTF-16 in its directory).
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50
    directory += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 50
    return header + directory + b"\x00" * 2048


def _empty_sheet() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _huge_sheet() -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["姓名", "性别"])
    for number in range(100_000):
        sheet.append([f"会员{number}", "女"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "filename", "message"),
    [
        (lambda: b"%PDF-1.7 not a roster\n" * 40, "roster.xlsx", "不是表格文件"),
        (_password_protected, "locked.xlsx", "去掉密码"),
        (_empty_sheet, "empty.xlsx", "工作表是空的"),
        (_huge_sheet, "huge.xlsx", "一次最多导入 20000 名会员"),
        (lambda: "甲,乙\n1,2\n".encode("gbk"), "no-headings.csv", "请在数据上方加一行标题"),
    ],
    ids=["not-a-spreadsheet", "password", "empty-sheet", "100000-rows", "no-heading"],
)
def test_bad_files_get_a_message_saying_what_to_do_and_nothing_is_written(
    app, world, make_client, tmp_path, make, filename, message
):
    path = tmp_path / filename
    path.write_bytes(make())
    response = upload(make_client(world.secretary_a1.login), path)
    assert response.status_code == 422
    assert message in response.text
    assert count(world, MemberImport) == 0 and count(world, Member) == 0
    assert list((tmp_path / "imports").glob("*.upload")) == []


def test_the_cli_reports_skipped_rows_and_asks_for_the_sheet(app, world, corpus):
    runner = app.test_cli_runner()
    path = corpus["04-totals-signatures.xlsx"].path
    result = runner.invoke(args=["members", "import", str(path), "--association", "village-a1"])
    assert result.exit_code == 0, result.output
    assert "80 valid rows, 0 rejected" in result.output
    assert "row 83 skipped" in result.output
    path = corpus["12-several-sheets.xlsx"].path
    result = runner.invoke(args=["members", "import", str(path), "--association", "village-a1"])
    assert result.exit_code == 1 and "--sheet" in result.output
    result = runner.invoke(
        args=["members", "import", str(path), "--association", "village-a1", "--sheet", "花名册"]
    )
    assert result.exit_code == 0, result.output
    assert count(world, Member) == 115


def test_the_associations_bulk_set_up_reads_title_rows_and_totals_the_same_way(tmp_path):
    from app.associations.bulk.columns import HEADING_WORDS

    path = tmp_path / "villages.csv"
    path.write_text(
        "XX镇村级计生协名单\n名称,类型,区划代码,上级,服务人口\n东村,村,340104001001,,800\n"
        "合计,1个,,,800\n填表人:王芳\n",
        encoding="utf-8",
    )
    table = read_table(path, headings=HEADING_WORDS)
    assert table.heading_rows == [2] and len(table.rows) == 1
    assert [skipped.reason for skipped in table.skipped] == ["total", "signature"]
    with pytest.raises(SpreadsheetError):
        read_table(tmp_path / "villages.csv", headings=HEADING_WORDS, heading_row=9)


def test_what_secretaries_type_is_understood(app, world, tmp_path):
    from tests.members.roster_corpus import id_number_for

    path = tmp_path / "typed.csv"
    rows = [
        "序号,姓名,性别,户籍地址,家庭住址,身份证号码,联系电话,手机号码,入会时间,出生年月",
        "一、第一网格",
        f"1,张秀英,女性,老家1号,幸福路1号,'{id_number_for(2, female=True)},0551-1,"
        "13800000001,2020年5月,1970.1",
        f"2,李建国,男,老家2号,幸福路2号,{id_number_for(3, female=False)},,13800000002,2019,1965",
        "第二组",
        f"3,王芳,女,老家3号,幸福路3号,{id_number_for(4, female=True)},,13800000003,2021.03,1972",
        "本页合计,3人",
        "联系人:王芳,联系电话:13800000003",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = read_table(path, headings=importing.HEADING_WORDS)
    assert [s.reason for s in table.skipped] == ["section", "section", "total", "signature"]
    mapping = importing.guess_mapping(table.headers)
    by_field = {name: table.headers[int(index)] for index, name in mapping.items()}
    assert by_field["address"] == "家庭住址" and by_field["phone"] == "手机号码"
    assert "出生年月" not in by_field.values()
    with tenant_context(scope_for(world.village_a1, writable=True)):
        records = importing.records_from_table(table, mapping)
        checked = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert all(row.valid for row in checked), [row.problems for row in checked]
    assert [str(row.member.joined_on) for row in checked] == [
        "2020-05-01",
        "2019-01-01",
        "2021-03-01",
    ]


def test_the_user_picks_the_register_central_household_a_name_points_to(app, world, make_client):
    from tests.factories import create_household, create_member, create_validated_import

    elsewhere = create_household(world.village_a1, address="别处1号", central=True)
    create_member(world.village_a1, "张三", household_id=elsewhere.id)
    import_id = create_validated_import(
        world.village_a1,
        [{"name": "孙七", "address": "幸福路4号", "central_household": "张三"}],
    ).id
    client = make_client(world.secretary_a1.login)
    row_url = f"/a/village-a1/members/imports/{import_id}/rows/2"
    form = client.get(row_url, headers={"HX-Request": "true"}).text
    assert "住址为 别处1号 的中心户" in form and "<select" in form
    response = client.post(
        row_url,
        {"name": "孙七", "address": "幸福路4号", "central_household": "别处1号"},
        headers={"HX-Request": "true"},
    )
    assert "1 行可以导入" in response.text
    client.post(f"/a/village-a1/members/imports/{import_id}/confirm")
    with tenant_context(scope_for(world.village_a1, writable=False)):
        households = {h.address: h for h in db.session.scalars(select(Household))}
    assert households["幸福路4号"].central_household_id == households["别处1号"].id


def test_annotation_and_example_rows_and_household_words(app, world, tmp_path):
    path = tmp_path / "annotated.csv"
    rows = [
        "姓名,性别,家庭住址,户类别,所属中心户",
        "必填,选填,必填,选填,选填",
        "例:张三,男,幸福路1号,中心户,",
        "王芳,女,幸福路9号,中心户,",
        "李强,男,幸福路10号,联系户,王芳户",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = read_table(path, headings=importing.HEADING_WORDS)
    assert [s.reason for s in table.skipped] == ["note", "note"]
    mapping = importing.guess_mapping(table.headers)
    mapping[str(table.headers.index("户类别"))] = "is_central"
    with tenant_context(scope_for(world.village_a1, writable=True)):
        records = importing.records_from_table(table, mapping)
        checked = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert all(row.valid for row in checked), [row.problems for row in checked]
    assert checked[1].central_key == "幸福路9号"
