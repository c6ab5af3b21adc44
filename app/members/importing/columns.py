"""Which column holds which field: the headings people use, the guess, and the choices an
association made last time."""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.spreadsheets import (
    normalise_header,
)
from app.extensions import db
from app.members import services
from app.members.labels import FIELD_LABELS
from app.members.models import (
    ImportMapping,
)

FIELDS = tuple(FIELD_LABELS)


# Headings people use for each field (compared after normalise_header).
ALIASES = {
    "name": ("姓名", "名字", "会员姓名", "会员名称", "name", "fullname"),
    "gender": ("性别", "gender", "sex"),
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "电话号码",
        "联系方式",
        "移动电话",
        "phone",
        "mobile",
    ),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "公民身份号码",
        "证件号码",
        "身份证件号码",
        "idnumber",
        "idcard",
    ),
    "address": (
        "家庭住址",
        "现住址",
        "住址",
        "地址",
        "居住地址",
        "家庭地址",
        "现居住地址",
        "户籍地址",
        "户籍地",
        "address",
        "homeaddress",
    ),
    "grid": ("网格", "所属网格", "网格名称", "grid"),
    "building": ("楼栋", "楼号", "栋", "楼栋号", "building"),
    "unit": ("单元", "单元号", "unit"),
    "joined_on": (
        "入会时间",
        "入会日期",
        "加入时间",
        "入会年月",
        "入会年份",
        "joinedon",
        "joindate",
        "joined",
        "memberssince",
        "membersince",
    ),
    "status": ("状态", "会员状态", "status"),
    "tags": ("标签", "类别", "骨干类别", "五老", "会员类别", "tags"),
    "is_central": (
        "是否中心户",
        "中心户",
        "是否为中心户",
        "中心户(是/否)",
        "iscentral",
        "centralhousehold?",
        "central",
    ),
    "central_household": (
        "所属中心户",
        "联系中心户",
        "所联中心户",
        "中心户户主",
        "所属中心户户主",
        "联系户所属中心户",
        "对应中心户",
        "centralhouseholditbelongsto",
        "linkedto",
    ),
}


# Headings that contain an alias's word but hold something else (a landline is not the
# mobile number; 序号 numbers the rows): such columns are not guessed.
NOT_GUESSED = (
    "固话",
    "座机",
    "固定电话",
    "办公电话",
    "家庭电话",
    "landline",
    "序号",
    "备注",
    "remarks",
    "notes",
    "出生",
    "年龄",
)


# Every heading word the reader scores rows with, to find the heading row.
HEADING_WORDS = frozenset(
    normalise_header(alias) for aliases in ALIASES.values() for alias in aliases
)


def _label_aliases() -> dict[str, str]:
    """The field labels themselves, in both languages: a file downloaded from the problem
    report (headed with them) maps by itself when it comes back."""
    aliases = {}
    for locale in ("en", "zh_Hans_CN"):
        with force_locale(locale):
            for name, label in FIELD_LABELS.items():
                aliases.setdefault(normalise_header(str(label)), name)
    return aliases


def guess_mapping(headers: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """Column index (as text) → field. A heading the association mapped before keeps its
    field (`saved`, heading key → field or "" for ignored); others match a known alias: exact
    matches first (for a two-row heading, the lower heading, then both), then headings that
    contain an alias (longest alias first). Landline, 序号 and remark columns are not guessed."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    full = [normalise_header(header) for header in headers]
    lower = [normalise_header(header.rsplit(" / ", 1)[-1]) for header in headers]
    exact = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    exact.update({alias: name for alias, name in _label_aliases().items() if alias})
    decided: set[int] = set()
    for index, key in enumerate(full):
        if saved and key and key in saved:
            decided.add(index)
            name = saved[key]
            if name in FIELD_LABELS and name not in taken:
                mapping[str(index)] = name
                taken.add(name)
    undecided = [
        index
        for index in range(len(headers))
        if index not in decided
        and full[index]
        and not any(word in full[index] for word in NOT_GUESSED)
    ]
    # Where two columns match one field exactly, the heading listed first in ALIASES wins
    # (家庭住址 over 户籍地址, 手机号码 over 联系电话), whatever their order in the file.
    rank = {
        alias: position for aliases in ALIASES.values() for position, alias in enumerate(aliases)
    }
    for keys in (lower, full):
        matches = sorted(
            (rank.get(keys[index], 99), index, exact[keys[index]])
            for index in undecided
            if keys[index] in exact
        )
        for _, index, name in matches:
            if str(index) not in mapping and name not in taken:
                mapping[str(index)] = name
                taken.add(name)
    by_length = sorted(exact.items(), key=lambda item: -len(item[0]))
    for keys in (lower, full):
        for index in undecided:
            if str(index) in mapping:
                continue
            for alias, name in by_length:
                if name not in taken and len(alias) > 1 and alias in keys[index]:
                    mapping[str(index)] = name
                    taken.add(name)
                    break
    return mapping


def saved_mapping() -> dict[str, str]:
    """The association's column choices from its last import (heading key → field)."""
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.kind == "members"))
    return dict(saved.fields) if saved else {}


def remember_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    """Keep the user's choice of field for each heading, for the next import."""
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.kind == "members"))
    if saved is None:
        saved = ImportMapping(kind="members", fields={})
        db.session.add(saved)
    fields = dict(saved.fields or {})
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if key:
            fields[key] = mapping.get(str(index), "")
    # The newest choices win; a register's headings are few, so the table stays small.
    saved.fields = dict(list(fields.items())[-300:])
    saved.updated_at = utcnow()


def check_mapping(mapping: dict[str, str]) -> None:
    fields = [name for name in mapping.values() if name]
    if "name" not in fields:
        raise services.RegisterError(_l("Choose which column holds the name."))
    duplicates = {name for name in fields if fields.count(name) > 1}
    if duplicates:
        raise services.RegisterError(
            _l(
                "Each field can come from one column only: %(fields)s.",
                fields="、".join(str(FIELD_LABELS[name]) for name in sorted(duplicates)),
            )
        )
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise services.RegisterError(_l("Unknown field in the mapping."))
