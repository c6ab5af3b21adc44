"""Money: integer fen in, text out — the one place amounts are parsed and formatted.

Amounts are integer fen everywhere (database, services, forms' `.fen`); they become yuan text
only here: `parse_yuan` for what a person types, `yuan_input` to fill a field back,
`yuan_text` for plain "¥1,234.50" (receipts, SMS, command line), `money` for the user's locale
(the Jinja filter), `yuan_number` for a spreadsheet cell, `amount_in_words` for the capital
numerals a receipt carries (大写金额).
"""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import format_currency

YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
BIG_UNITS = ("", "万", "亿")


def parse_yuan(text: str) -> int:
    """ "12.5" → 1250. Only plain amounts with at most two decimals; never a float.
    Raises ValueError for anything else."""
    text = (text or "").strip().replace(",", "").replace("¥", "").replace("元", "")
    if not YUAN.match(text):
        raise ValueError(text)
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation as error:
        raise ValueError(text) from error


def _plain(fen: int) -> str:
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_input(fen: int) -> str:
    """1250 → "12.50": what an amount field shows, and what `parse_yuan` reads back."""
    return _plain(fen)


def yuan_text(fen: int) -> str:
    """1234050 → "¥12,340.50", the same in every locale (receipts, SMS, command line)."""
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def yuan_number(fen: int | None) -> float | None:
    """Fen as yuan for a spreadsheet cell (formatted there as money)."""
    return None if fen is None else fen / 100


def money(fen: int | None) -> str:
    """Integer fen → "¥1,234.50" in the user's locale (the `money` Jinja filter)."""
    if fen is None:
        return ""
    return format_currency(Decimal(_plain(fen)), "CNY")


def _four_digits(number: int) -> str:
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit:
            if zero and text:
                text += "零"
            text += DIGITS[digit] + SMALL_UNITS[position]
            zero = False
        else:
            zero = True
    return text


def amount_in_words(fen: int) -> str:
    """Fen as the capital-numeral amount receipts carry (大写金额): 3050 → 叁拾元伍角."""
    yuan, jiao, fen_part = fen // 100, fen // 10 % 10, fen % 10
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group:
                if text and group < 1000:
                    text += "零"
                text += _four_digits(group) + BIG_UNITS[index]
        text += "元"
    if not jiao and not fen_part:
        return (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen_part:
        text += DIGITS[fen_part] + "分"
    return text
