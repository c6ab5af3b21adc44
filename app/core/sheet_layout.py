"""Finding the table in a sheet as people lay it out: the heading row (scored, not assumed),
title rows and notes above it, two-row headings with merged cells, a 序号 column, blank and
hidden rows and columns, and rows of totals, remarks and signatures wherever they are.

Pure functions over the sheet's cells, so every reader (members, households, associations'
bulk set-up) gets the same behaviour; `app.core.spreadsheets.read_table` is the entry point.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

# Headings found on the rosters associations keep (compared after `header_key`); each caller
# adds the headings of its own fields.
COMMON_HEADINGS = frozenset(
    {
        "序号",
        "编号",
        "姓名",
        "名字",
        "性别",
        "民族",
        "年龄",
        "出生日期",
        "出生年月",
        "身份证号",
        "身份证号码",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "联系方式",
        "固话",
        "住址",
        "地址",
        "家庭住址",
        "户籍地址",
        "现住址",
        "入会时间",
        "中心户",
        "联系户",
        "联户",
        "备注",
        "职务",
        "单位",
        "工作单位",
        "文化程度",
        "政治面貌",
        "no",
        "name",
        "gender",
        "sex",
        "phone",
        "mobile",
        "address",
        "remarks",
        "notes",
    }
)
# A 序号 column numbers the rows; it holds nothing to import.
ROW_NUMBER_HEADINGS = frozenset({"序号", "序", "no", "no.", "#", "number", "行号"})
# Words that start a row of totals, remarks or signatures (spaces removed before comparing).
TOTAL_WORDS = ("合计", "小计", "总计", "共计", "累计", "总数", "total", "subtotal")
SIGNATURE_WORDS = (
    "填表人",
    "填报人",
    "审核人",
    "审核",
    "审批",
    "填报日期",
    "填表日期",
    "报送日期",
    "制表",
    "负责人",
    "统计人",
    "经办人",
    "签字",
    "签名",
    "盖章",
    "单位盖章",
    "单位(盖章)",
    "preparedby",
    "checkedby",
    "signature",
    "联系人:",
    "填报单位:",
    "单位名称:",
    "日期:",
)
# A total further in (本页合计, 以上共计) or written 共 240 人.
TOTAL_PATTERN = re.compile(r"^.{0,4}(合计|小计|总计|共计|总人数)|^共\d")
# A row of one short cell that names a part of the roster (一、第一网格; 3号楼; 第二组).
SECTION_PATTERN = re.compile(
    r"^([一二三四五六七八九十]+|\d{1,2})[、.．]|(网格|小组|组|片区|小区|号楼|栋)[:：]?$"
)
NOTE_WORDS = (
    "备注",
    "说明",
    "填表说明",
    "注:",
    "注1",
    "注意",
    "例:",
    "示例",
    "例如",
    "note:",
    "notes:",
    "remarks:",
    "example",
)
# A row of annotations under the headings (必填 | 选填 | …).
ANNOTATION = re.compile(r"^[(（\[]?(必填|选填|可选|非必填|可不填|required|optional|\*)[)）\]]?$")
SCAN_ROWS = 30  # the heading is looked for among the first rows that hold anything

SKIP_REASONS = {
    "hidden": _l("Hidden row"),
    "total": _l("A row of totals"),
    "signature": _l("Signatures or dates of the form"),
    "note": _l("Remarks or notes, not a member"),
    "heading": _l("The heading row repeated"),
    "section": _l("The name of a part of the roster (a grid, a group), not a member"),
}


@dataclass
class SkippedRow:
    number: int  # as Excel shows it, 1-based
    reason: str  # a key of SKIP_REASONS
    text: str  # the start of the row, to recognise it


@dataclass
class Layout:
    headers: list[str]
    columns: list[int]  # 0-based sheet column of each header
    heading_rows: list[int]  # 1-based row numbers of the heading (one or two rows)
    rows: list[list] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    blank_rows: int = 0


def normalise_text(value) -> str:
    """Text as the user meant it: NFKC (full-width digits and letters become ASCII, the
    ideographic space a space), runs of spaces collapsed, ends trimmed; numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10] if isinstance(value, datetime) else value.isoformat()
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


def header_key(value) -> str:
    """A heading reduced for matching: no spaces, no notes in brackets, no '*' or ':'."""
    text = normalise_text(value).lower()
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)
    return re.sub(r"[\s*:_\-./]", "", text)


def _squeezed(value) -> str:
    return re.sub(r"\s+", "", normalise_text(value)).lower().replace("：", ":")


def heading_score(row: list, words: frozenset[str]) -> int:
    """How many cells of a row read as known headings (exactly, or a short cell holding one)."""
    score = 0
    for cell in row:
        key = header_key(cell)
        if not key or len(key) > 14:
            continue
        if key in words or any(len(word) > 1 and word in key for word in words):
            score += 1
    return score


def _is_blank(row: list) -> bool:
    return all(_squeezed(cell) == "" for cell in row)


def find_heading_row(
    cells: list[list], words: frozenset[str], hidden_rows: set[int] = frozenset()
) -> int | None:
    """0-based index of the row that reads most like headings among the first rows with
    content; None when no row holds any known heading. Ties go to the upper row."""
    best, best_score, seen = None, 0, 0
    for index, row in enumerate(cells):
        if _is_blank(row) or index + 1 in hidden_rows:
            continue
        seen += 1
        if seen > SCAN_ROWS:
            break
        filled = [header_key(cell) for cell in row if _squeezed(cell)]
        # A title merged across the table is one cell: a row of one cell is the heading
        # only when that cell is a heading word itself (a one-column list of names).
        if len(filled) < 2 and filled[0] not in words:
            continue
        score = heading_score(row, words)
        if score > best_score:
            best, best_score = index, score
    return best


def _merge_areas(merged: list) -> list[tuple[int, int, int, int]]:
    return [(top, left, bottom, right) for (top, left), (bottom, right) in merged or ()]


def _second_heading_row(cells: list[list], upper: int, words: frozenset[str], merged: list) -> bool:
    """Whether the row below `upper` continues the heading (联系方式 over 手机 | 固话)."""
    if upper + 1 >= len(cells):
        return False
    lower = cells[upper + 1]
    if _is_blank(lower):
        return False
    areas = _merge_areas(merged)
    if any(top == upper and bottom >= upper + 1 for top, _, bottom, _ in areas):
        return True
    if any(top == upper and bottom == upper and right > left for top, left, bottom, right in areas):
        return heading_score(lower, words) > 0 or not _looks_like_data(lower)
    top_row = cells[upper]
    width = max(len(top_row), len(lower))
    top = [_squeezed(top_row[i]) if i < len(top_row) else "" for i in range(width)]
    low = [_squeezed(lower[i]) if i < len(lower) else "" for i in range(width)]
    under_blank = any(low[i] and not top[i] for i in range(width))
    return under_blank and heading_score(lower, words) > 0 and not _looks_like_data(lower)


def _looks_like_data(row: list) -> bool:
    """A row holding ID numbers, phone numbers or dates is data, not headings."""
    for cell in row:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            return True
        text = _squeezed(cell)
        if re.fullmatch(r"\d{6,}[\dx]?", text) or re.fullmatch(r"\d{4}[-/.年]\d{1,2}.*", text):
            return True
    return False


def _combined_headers(
    cells: list[list], upper: int, width: int, merged: list, two_rows: bool
) -> list[str]:
    def cell(row: int, column: int) -> str:
        values = cells[row]
        return normalise_text(values[column]) if column < len(values) else ""

    top = [cell(upper, column) for column in range(width)]
    if not two_rows:
        return top
    for first, left, _bottom, right in _merge_areas(merged):
        if first == upper and left < width:
            for column in range(left + 1, min(right, width - 1) + 1):
                top[column] = top[column] or top[left]
    low = [cell(upper + 1, column) for column in range(width)]
    if not merged:
        # Without merge information, a blank top cell over a sub-heading belongs to the
        # group heading on its left (联系方式 | (blank) over 手机 | 固话).
        for column in range(1, width):
            if not top[column] and low[column] and low[column - 1]:
                top[column] = top[column - 1]
    headers = []
    for column in range(width):
        upper_text, lower_text = top[column], low[column]
        if upper_text and lower_text and upper_text != lower_text:
            headers.append(f"{upper_text} / {lower_text}")
        else:
            headers.append(lower_text or upper_text)
    return headers


def _has_value(cell) -> bool:
    if cell is None or cell == "":
        return False
    return not isinstance(cell, str) or bool(cell.strip())


def skip_reason(row: list) -> str | None:
    """Why a row below the heading is not a member: totals, signatures, notes; None if it is
    data. The first cells with text decide, or any cell of a row with few cells."""
    filled = [cell for cell in row if _has_value(cell)]
    if not filled:
        return None
    if all(isinstance(cell, str) and ANNOTATION.match(_squeezed(cell)) for cell in filled):
        return "note"
    candidates = filled if len(filled) <= 3 else filled[:2]
    for cell in candidates:
        if not isinstance(cell, str):
            continue  # a number or a date starts no total or signature
        text = _squeezed(cell)
        if text.startswith(TOTAL_WORDS) or TOTAL_PATTERN.match(text):
            return "total"
        if text.startswith(SIGNATURE_WORDS):
            return "signature"
        if text.startswith(NOTE_WORDS) or re.match(r"注[:：\d]", text):
            return "note"
    if len(filled) == 1 and isinstance(filled[0], str):
        text = _squeezed(filled[0])
        if len(text) > 20:
            return "note"  # a sentence on its own row: a remark, not a member
        if len(text) <= 12 and SECTION_PATTERN.search(text):
            return "section"
    return None


def _row_text(row: list) -> str:
    return " ".join(normalise_text(value) for value in row if _has_value(value))[:60]


def lay_out(
    cells: list[list],
    *,
    words: frozenset[str],
    heading_row: int | None = None,
    merged: list | None = None,
    hidden_rows: set[int] = frozenset(),
    hidden_columns: set[int] = frozenset(),
) -> Layout | None:
    """The table in a sheet; None when no heading row is found. `heading_row` (1-based) is
    the user's choice, overriding the guess."""

    words = frozenset(words) | COMMON_HEADINGS
    if heading_row is not None:
        upper = heading_row - 1
        if not 0 <= upper < len(cells) or _is_blank(cells[upper]):
            return None
    else:
        upper = find_heading_row(cells, words, hidden_rows)
        if upper is None:
            return None
    two_rows = _second_heading_row(cells, upper, words, merged or [])
    first_data = upper + (2 if two_rows else 1)
    width = max((len(row) for row in cells), default=0)
    headers = _combined_headers(cells, upper, width, merged or [], two_rows)
    data_indexes = [
        index
        for index in range(first_data, len(cells))
        if index + 1 not in hidden_rows and not _is_blank(cells[index])
    ]

    def column_used(column: int) -> bool:
        if column in hidden_columns:
            return False
        if header_key(headers[column]) in ROW_NUMBER_HEADINGS:
            return False
        if headers[column]:
            return True
        return any(
            column < len(cells[index]) and normalise_text(cells[index][column])
            for index in data_indexes[:200]
        )

    columns = [column for column in range(width) if column_used(column)]
    layout = Layout(
        headers=[headers[column] for column in columns],
        columns=columns,
        heading_rows=[upper + 1, upper + 2] if two_rows else [upper + 1],
    )
    heading_keys = [header_key(cell) for cell in cells[upper]]
    heading_start = [normalise_text(cell) for cell in cells[upper] if _has_value(cell)][:2]
    for index in range(first_data, len(cells)):
        row = cells[index]
        if not any(_has_value(cell) for cell in row):
            layout.blank_rows += 1
            continue
        number = index + 1
        if number in hidden_rows:
            layout.skipped.append(SkippedRow(number, "hidden", _row_text(row)))
            continue
        start = [cell for cell in row if _has_value(cell)][:2]
        if (
            all(isinstance(cell, str) for cell in start)
            and [normalise_text(cell) for cell in start] == heading_start
            and [header_key(cell) for cell in row[: len(heading_keys)]] == heading_keys
        ):
            layout.skipped.append(SkippedRow(number, "heading", _row_text(row)))
            continue
        reason = skip_reason(row)
        if reason:
            layout.skipped.append(SkippedRow(number, reason, _row_text(row)))
            continue
        values = [row[column] if column < len(row) else "" for column in columns]
        if not any(_has_value(value) for value in values):  # only a 序号, or hidden columns
            layout.blank_rows += 1
            continue
        layout.rows.append(values)
        layout.row_numbers.append(number)
    return layout
