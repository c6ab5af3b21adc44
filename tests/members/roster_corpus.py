"""Realistic member rosters as grassroots associations keep them, generated for the import tests
(and the bench): each trap alone and several mixed, Chinese and English headings, .xlsx, .xls and
.csv in UTF-8 (with and without BOM) and GBK, 10 to 2,000 rows, each with the counts the import
must find.

`build_corpus(directory)` writes every roster and returns their descriptions; `roster_rows`
makes people with valid, distinct ID and mobile numbers.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from app.members.idnumbers import check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "建华",
    "建国",
    "志强",
    "海燕",
    "丽娟",
    "国庆",
    "春梅",
    "明",
)


@dataclass
class Person:
    number: int
    name: str
    gender: str  # 男 / 女, as the ID number says
    id_number: str
    phone: str
    address: str
    joined_on: str
    is_central: bool = False
    central: str = ""  # the name of the central household's member this household belongs to


@dataclass
class Roster:
    filename: str
    path: Path
    members: int  # rows that are members (read as data)
    valid: int  # rows that pass every check
    heading_rows: list[int]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows skipped
    sheets: int = 1  # visible sheets holding data (none for a .csv file)
    sheet: str | None = None  # the sheet the members are on, when there are several


def id_number_for(index: int, *, female: bool) -> str:
    year = 1940 + index % 60
    month = 1 + index % 12
    day = 1 + index % 28
    sequence = (index // 5) % 100
    gender_digit = (index % 5) * 2 + (0 if female else 1)
    first17 = f"340104{year:04d}{month:02d}{day:02d}{sequence:02d}{gender_digit}"
    return first17 + check_digit(first17)


def roster_rows(count: int, *, start: int = 0, centrals_every: int = 0) -> list[Person]:
    """People with distinct, valid ID and mobile numbers. With `centrals_every`, every n-th
    person is a central household and the next ones name it as theirs."""
    people = []
    central_name = ""
    for offset in range(count):
        index = start + offset
        female = index % 2 == 0
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index // len(SURNAMES)) % len(GIVEN)]
        name += str(index) if index >= len(SURNAMES) * len(GIVEN) else ""
        person = Person(
            number=offset + 1,
            name=name,
            gender="女" if female else "男",
            id_number=id_number_for(index, female=female),
            phone=f"138{index:08d}",
            address=f"幸福路{index + 1}号",
            joined_on=f"20{10 + index % 15:02d}-{1 + index % 12:02d}-01",
        )
        if centrals_every:
            if offset % centrals_every == 0:
                person.is_central = True
                central_name = person.name
            else:
                person.central = central_name
        people.append(person)
    return people


ZH = ["序号", "姓名", "性别", "身份证号", "联系电话", "家庭住址", "入会时间"]
ZH_LINKED = ZH + ["中心户", "所属中心户"]
EN = ["No.", "Name", "Gender", "ID number", "Mobile", "Address", "Joined"]


def cells_of(person: Person, *, linked: bool = False, english: bool = False) -> list:
    gender = ("F" if person.gender == "女" else "M") if english else person.gender
    row = [
        person.number,
        person.name,
        gender,
        person.id_number,
        person.phone,
        person.address,
        person.joined_on,
    ]
    if linked:
        row += ["是" if person.is_central else "", person.central]
    return row


TITLE = "XX社区计划生育协会会员花名册(2026年)"


def _xlsx(path: Path, workbook: Workbook) -> Path:
    # Cells holding ID and phone numbers as text, as a careful secretary formats them.
    workbook.save(path)
    return path


def _sheet_with(rows: list[list]) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    for row in rows:
        sheet.append(row)
    return workbook


def _totals_and_signatures(count: int) -> list[list]:
    return [
        [],
        ["合计", f"{count}人"],
        ["填表人:王芳", "", "", "审核人:李强", "", "填报日期:2026年1月5日"],
        ["备注:本表由社区计生协填报,一式两份。"],
    ]


def plain_zh(directory: Path) -> Roster:
    people = roster_rows(10)
    path = _xlsx(directory / "01-plain.xlsx", _sheet_with([ZH] + [cells_of(p) for p in people]))
    return Roster("01-plain.xlsx", path, members=10, valid=10, heading_rows=[1])


def title_row(directory: Path) -> Roster:
    people = roster_rows(50, start=100)
    workbook = _sheet_with(
        [[TITLE], ["填报单位:XX社区计生协", "", "", "", "", "填报日期:2026年1月5日"], ZH]
        + [cells_of(p) for p in people]
    )
    workbook.active.merge_cells("A1:G1")
    path = _xlsx(directory / "02-title-row.xlsx", workbook)
    return Roster("02-title-row.xlsx", path, members=50, valid=50, heading_rows=[3])


TWO_ROW_TOP = ["序号", "姓名", "性别", "身份证号", "联系方式", "", "家庭住址", "入会时间"]
TWO_ROW_LOW = ["", "", "", "", "手机", "固话", "", ""]


def _two_row_cells(person: Person) -> list:
    row = cells_of(person)
    return row[:5] + [f"0551-{6200000 + person.number}"] + row[5:]


def _merge_two_row_heading(sheet, top: int) -> None:
    for column in "ABCDGH":
        sheet.merge_cells(f"{column}{top}:{column}{top + 1}")
    sheet.merge_cells(f"E{top}:F{top}")


def two_row_headings(directory: Path) -> Roster:
    people = roster_rows(120, start=200)
    workbook = _sheet_with([TWO_ROW_TOP, TWO_ROW_LOW] + [_two_row_cells(p) for p in people])
    _merge_two_row_heading(workbook.active, 1)
    path = _xlsx(directory / "03-two-row-headings.xlsx", workbook)
    return Roster("03-two-row-headings.xlsx", path, members=120, valid=120, heading_rows=[1, 2])


def totals_and_signatures(directory: Path) -> Roster:
    people = roster_rows(80, start=400)
    rows = [ZH] + [cells_of(p) for p in people] + _totals_and_signatures(80)
    path = _xlsx(directory / "04-totals-signatures.xlsx", _sheet_with(rows))
    return Roster(
        "04-totals-signatures.xlsx",
        path,
        members=80,
        valid=80,
        heading_rows=[1],
        skipped={"total": 1, "signature": 1, "note": 1},
    )


def subtotals_between(directory: Path) -> Roster:
    people = roster_rows(200, start=600)
    rows = [[TITLE], ZH]
    for group in range(4):
        rows += [cells_of(p) for p in people[group * 50 : (group + 1) * 50]]
        rows += [["小计", "50人"], []]
    rows += [["总计", "200人"]]
    workbook = _sheet_with(rows)
    workbook.active.merge_cells("A1:G1")
    path = _xlsx(directory / "05-subtotals.xlsx", workbook)
    return Roster(
        "05-subtotals.xlsx", path, members=200, valid=200, heading_rows=[2], skipped={"total": 5}
    )


def hidden_rows_and_columns(directory: Path) -> Roster:
    people = roster_rows(60, start=900)
    headings = ZH[:2] + ["内部编号"] + ZH[2:]
    rows = [headings] + [cells_of(p)[:2] + [f"N{p.number}"] + cells_of(p)[2:] for p in people]
    workbook = _sheet_with(rows)
    sheet = workbook.active
    sheet.column_dimensions["C"].hidden = True
    for number in (5, 17, 33, 41, 59):  # five members hidden: not imported, listed
        sheet.row_dimensions[number].hidden = True
    path = _xlsx(directory / "06-hidden.xlsx", workbook)
    return Roster(
        "06-hidden.xlsx", path, members=55, valid=55, heading_rows=[1], skipped={"hidden": 5}
    )


def blank_rows_and_columns(directory: Path) -> Roster:
    people = roster_rows(40, start=1000)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    top = 3  # the table starts at B3, with a blank column between 性别 and 身份证号
    for column, heading in enumerate(ZH[:3] + [""] + ZH[3:], start=2):
        sheet.cell(row=top, column=column, value=heading or None)
    row_number = top + 1
    for index, person in enumerate(people):
        values = cells_of(person)
        for column, value in enumerate(values[:3] + [None] + values[3:], start=2):
            sheet.cell(row=row_number, column=column, value=value)
        row_number += 2 if index % 10 == 9 else 1  # a blank row after every ten
    path = _xlsx(directory / "07-blank.xlsx", workbook)
    return Roster("07-blank.xlsx", path, members=40, valid=40, heading_rows=[3])


def _csv_bytes(rows: list[list], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def english_csv(directory: Path) -> Roster:
    people = roster_rows(30, start=1100)
    rows = [["Member roster 2026"], EN] + [cells_of(p, english=True) for p in people]
    rows += [["Total", "30"], ["Prepared by: Wang Fang", "", "Checked by: Li Qiang"]]
    path = directory / "08-english.csv"
    path.write_bytes(_csv_bytes(rows, "utf-8"))
    return Roster(
        "08-english.csv",
        path,
        members=30,
        valid=30,
        heading_rows=[2],
        skipped={"total": 1, "signature": 1},
        sheets=0,
    )


def gbk_csv(directory: Path) -> Roster:
    people = roster_rows(100, start=1200)
    rows = [[TITLE], ZH] + [cells_of(p) for p in people] + _totals_and_signatures(100)
    path = directory / "09-gbk.csv"
    path.write_bytes(_csv_bytes(rows, "gbk"))
    return Roster(
        "09-gbk.csv",
        path,
        members=100,
        valid=100,
        heading_rows=[2],
        skipped={"total": 1, "signature": 1, "note": 1},
        sheets=0,
    )


def utf8_bom_csv(directory: Path) -> Roster:
    people = roster_rows(25, start=1400)
    rows = [[TITLE], ZH] + [cells_of(p) for p in people]
    path = directory / "10-utf8-bom.csv"
    path.write_bytes(_csv_bytes(rows, "utf-8-sig"))
    return Roster("10-utf8-bom.csv", path, members=25, valid=25, heading_rows=[2], sheets=0)


def legacy_xls(directory: Path) -> Roster:
    import xlwt

    people = roster_rows(70, start=1500)
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("会员名册")
    sheet.write_merge(0, 0, 0, 6, TITLE)
    for column, heading in enumerate(ZH):
        sheet.write(1, column, heading)
    for offset, person in enumerate(people):
        for column, value in enumerate(cells_of(person)):
            sheet.write(2 + offset, column, value)
    sheet.write(2 + len(people), 0, "合计")
    sheet.write(2 + len(people), 1, "70人")
    path = directory / "11-legacy.xls"
    workbook.save(str(path))
    return Roster(
        "11-legacy.xls", path, members=70, valid=70, heading_rows=[2], skipped={"total": 1}
    )


def multi_sheet(directory: Path) -> Roster:
    people = roster_rows(35, start=1600)
    workbook = Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes.append(["填表说明"])
    notes.append(["1. 每位会员一行,身份证号请设置为文本格式。"])
    roster = workbook.create_sheet("花名册")
    roster.append([TITLE])
    roster.append(ZH)
    for person in people:
        roster.append(cells_of(person))
    workbook.create_sheet("Sheet3")  # empty
    hidden = workbook.create_sheet("旧名单")
    hidden.sheet_state = "hidden"
    hidden.append(ZH)
    path = _xlsx(directory / "12-several-sheets.xlsx", workbook)
    return Roster(
        "12-several-sheets.xlsx",
        path,
        members=35,
        valid=35,
        heading_rows=[2],
        sheets=2,
        sheet="花名册",
    )


def linkage(directory: Path) -> Roster:
    """Central households (中心户) with their linked households named by the member's name;
    the second central household's own row has a bad ID number, so its four linked rows wait."""
    people = roster_rows(30, centrals_every=5, start=1700)
    people[5].id_number = people[5].id_number[:-1] + (
        "0" if people[5].id_number[-1] != "0" else "1"
    )
    rows = [[TITLE], ZH_LINKED] + [cells_of(p, linked=True) for p in people]
    path = _xlsx(directory / "13-linkage.xlsx", _sheet_with(rows))
    return Roster("13-linkage.xlsx", path, members=30, valid=25, heading_rows=[2])


def mixed_big(directory: Path, count: int = 2000, name: str = "14-mixed-2000.xlsx") -> Roster:
    """Every trap at once, at the size of a large community: title and unit rows, two-row
    merged headings with 序号, a landline column, subtotals and blank rows between grids, a
    repeated heading row, hidden rows, 20 genders that contradict the ID number, totals and
    signatures below."""
    people = roster_rows(count, start=5000)
    for person in people[7::100]:
        person.gender = "男" if person.gender == "女" else "女"
    mismatches = len(people[7::100])
    rows = [[TITLE], ["填报单位:XX街道XX社区计生协"], TWO_ROW_TOP, TWO_ROW_LOW]
    hidden_numbers = []
    grid = 500
    skipped = {"total": 0, "heading": 0, "hidden": 0, "signature": 1, "note": 1}
    for start in range(0, count, grid):
        for person in people[start : start + grid]:
            rows.append(_two_row_cells(person))
        rows.append(["小计", f"{min(grid, count - start)}人"])
        skipped["total"] += 1
        rows.append([])
        if start == 0:
            rows.append(TWO_ROW_TOP)  # the heading printed again for the second page
            skipped["heading"] += 1
    hidden_numbers = [6, 106, 206]  # rows of members hidden by a filter left on
    skipped["hidden"] = len(hidden_numbers)
    rows += [["合计", f"{count}人"]]
    skipped["total"] += 1
    rows += [["填表人:王芳", "", "审核人:李强"], ["说明:身份证号已核对。"]]
    workbook = _sheet_with(rows)
    sheet = workbook.active
    sheet.merge_cells("A1:H1")
    _merge_two_row_heading(sheet, 3)
    for number in hidden_numbers:
        sheet.row_dimensions[number].hidden = True
    path = _xlsx(directory / name, workbook)
    members = count - len(hidden_numbers)
    return Roster(
        name,
        path,
        members=members,
        valid=members - mismatches,
        heading_rows=[3, 4],
        skipped=skipped,
    )


BUILDERS = (
    plain_zh,
    title_row,
    two_row_headings,
    totals_and_signatures,
    subtotals_between,
    hidden_rows_and_columns,
    blank_rows_and_columns,
    english_csv,
    gbk_csv,
    utf8_bom_csv,
    legacy_xls,
    multi_sheet,
    linkage,
    mixed_big,
)


def build_corpus(directory: Path) -> list[Roster]:
    directory.mkdir(parents=True, exist_ok=True)
    return [build(directory) for build in BUILDERS]
