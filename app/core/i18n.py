"""Locale choice, catalogue compilation and the locale-aware Jinja filters (dates, money)."""

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_login import current_user

from app.core.labels import INVITATION_STATUS_LABELS, KIND_LABELS, ROLE_LABELS
from app.core.money import money  # the Jinja filter; also imported from here

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LOCALE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The user's explicit choice, remembered in the session and on the account; else Chinese."""
    if not has_request_context():  # jobs and commands speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def compile_catalogues() -> None:
    """Compile each .po whose .mo is missing or older (atomic: parallel starts are safe)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=po_path.parent.parent.name)
        tmp_path = mo_path.with_suffix(f".mo.{id(catalogue)}.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
        tmp_path.replace(mo_path)


def html_lang() -> str:
    return {"zh_Hans_CN": "zh-CN"}.get(str(get_locale()), str(get_locale()).replace("_", "-"))


def local_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    # For datetimes Flask-Babel converts to the user's timezone (Asia/Shanghai) first.
    return format_date(value, style)


def local_datetime(value: datetime | None, style: str = "medium") -> str:
    return format_datetime(value, style) if value is not None else ""


def number(value) -> str:
    return format_decimal(value) if value is not None else ""


def translated(labels: Mapping) -> Callable:
    """`labels.get` for templates, each label translated once per language in each worker
    rather than at every use: a list names a status on each of its rows."""
    by_locale: dict[str, dict] = {}

    def label(value, default=None):
        locale = str(get_locale())
        table = by_locale.get(locale)
        if table is None:
            table = by_locale[locale] = {key: str(text) for key, text in labels.items()}
        return table.get(value, default)

    return label


# Each locale's catalogue, as Flask-Babel loaded it: a page's forty `_()` calls then cost one
# look-up of the locale each, where Flask-Babel's own template callables look up the domain,
# the locale and its cache through the request's globals for every string.
_catalogues: dict = {}


def _catalogue():
    locale = get_locale()  # follows force_locale, as Flask-Babel's callables do
    catalogue = _catalogues.get(locale)
    if catalogue is None:
        catalogue = _catalogues[locale] = get_translations()
    return catalogue


def init_app(app: Flask) -> None:
    compile_catalogues()
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _catalogue().ugettext(string),
        ngettext=lambda singular, plural, n: _catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, string: _catalogue().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _catalogue().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        money=money, date=local_date, datetime=local_datetime, number=number
    )
    app.jinja_env.globals.update(
        html_lang=html_lang,
        get_locale=get_locale,
        locale_names=LOCALE_NAMES,
        kind_label=KIND_LABELS.get,
        role_label=ROLE_LABELS.get,
        invitation_status_label=INVITATION_STATUS_LABELS.get,
    )
