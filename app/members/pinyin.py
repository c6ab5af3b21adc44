"""Pinyin initials of a name, the letters the register's search matches (张三 → "zs")."""

import re

from pypinyin import Style, lazy_pinyin


def pinyin_initials(name: str) -> str:
    """张三 → "zs"; letters in the name are kept, other characters dropped."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return re.sub(r"[^a-z]", "", "".join(letters).lower())[:60]


def initials_default(context) -> str:
    """Column default: rows inserted in bulk without initials (sample data, scripts) still get
    them, so a pinyin search finds every member."""
    return pinyin_initials(context.get_current_parameters().get("name") or "")
