"""The columns of an association import: its fields, the headings people give them, the
words for each kind of association, and which column of the heading row holds which field."""

from flask_babel import lazy_gettext as _l

from app.core.problems import Problem
from app.core.spreadsheets import normalise_header
from tenants.models import AssociationKind

FIELD_LABELS = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "division_code": _l("Division code"),
    "parent": _l("Parent (name or division code)"),
    "served_population": _l("Population served"),
    "secretary_name": _l("Secretary's name"),
    "secretary_login": _l("Secretary's mobile number or email"),
}
# Headings people use for each column (compared after normalise_header).
ALIASES = {
    "name": ("名称", "协会名称", "计生协名称", "单位名称", "名字", "name"),
    "kind": ("类型", "类别", "协会类型", "级别", "层级", "kind", "type"),
    "division_code": (
        "区划代码",
        "行政区划代码",
        "统计用区划代码",
        "代码",
        "divisioncode",
        "code",
    ),
    "parent": (
        "上级",
        "上级协会",
        "上级名称",
        "上级协会名称",
        "上级区划代码",
        "上级名称或代码",
        "所属上级",
        "parent",
    ),
    "served_population": (
        "服务人口",
        "人口",
        "人口数",
        "户籍人口",
        "population",
        "servedpopulation",
    ),
    "secretary_name": ("秘书长", "秘书长姓名", "负责人", "联系人", "secretary", "secretaryname"),
    "secretary_login": (
        "秘书长手机",
        "秘书长手机号",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话",
        "邮箱",
        "手机或邮箱",
        "手机号或邮箱",
        "phone",
        "mobile",
        "email",
        "secretaryphone",
        "secretarylogin",
    ),
}
KIND_WORDS = {
    AssociationKind.PROVINCE: {"省", "省级", "province"},
    AssociationKind.CITY: {"市", "地市", "市级", "city"},
    AssociationKind.COUNTY: {"县", "区", "县区", "县(区)", "县/区", "县级", "county", "district"},
    AssociationKind.TOWNSHIP: {"乡", "镇", "乡镇", "街道", "乡镇街道", "乡镇(街道)", "township"},
    AssociationKind.COMMUNITY: {"社区", "居委会", "community"},
    AssociationKind.VILLAGE: {"村", "行政村", "村委会", "village"},
    AssociationKind.ENTERPRISE: {"企业", "enterprise"},
    AssociationKind.MIGRANT: {"流动人口", "流动", "migrant"},
}


class BulkImportError(Problem):
    """The file as a whole cannot be imported; `message` is translated."""


# The heading words the shared reader scores rows with to find the heading row (the same
# reader as the member import: title rows, two-row headings, totals and signatures skipped).
HEADING_WORDS = frozenset(
    normalise_header(alias) for aliases in ALIASES.values() for alias in aliases
)


def guess_columns(headers: list[str]) -> dict[int, str]:
    """Column index → field, for headings that match a known alias; exact matches first, then
    headings containing an alias (longest first)."""
    columns: dict[int, str] = {}
    taken: set[str] = set()
    normalised = [normalise_header(header) for header in headers]
    exact = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    for index, header in enumerate(normalised):
        name = exact.get(header)
        if name and name not in taken:
            columns[index] = name
            taken.add(name)
    by_length = sorted(exact.items(), key=lambda item: -len(item[0]))
    for index, header in enumerate(normalised):
        if index in columns or not header:
            continue
        for alias, name in by_length:
            if name not in taken and len(alias) > 1 and alias in header:
                columns[index] = name
                taken.add(name)
                break
    missing = [name for name in ("name", "served_population") if name not in taken]
    if missing:
        raise BulkImportError(
            _l(
                "The row of headings must name these columns, which were not found: %(fields)s. "
                "If the headings are on another row, choose it.",
                fields="、".join(str(FIELD_LABELS[name]) for name in missing),
            )
        )
    return columns
