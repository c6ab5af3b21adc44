"""The same pages in Chinese (default) and English, and locale-aware formatting."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale

from app.core.i18n import money
from app.members.labels import STATUS_LABELS
from app.members.models import MemberStatus
from tests.factories import create_member


def test_the_home_page_renders_in_chinese_then_english_after_switching(world, make_client):
    client = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/"
    chinese = client.get(url)
    assert (
        'lang="zh-CN"' in chinese.text and "服务人口" in chinese.text and "秘书长" in chinese.text
    )
    assert client.post("/locale", {"locale": "en", "next": url}).location == url
    english = client.get(url)
    assert 'lang="en"' in english.text
    assert "Population served" in english.text and "Secretary" in english.text
    assert "服务人口" not in english.text


def test_the_choice_is_remembered_on_the_account_for_the_next_login(world, make_client):
    first = make_client(world.secretary_a1.login)
    first.post("/locale", {"locale": "en", "next": "/"})
    later = make_client(world.secretary_a1.login)
    assert "Population served" in later.get(f"/a/{world.village_a1.slug}/").text


def test_an_unknown_locale_is_refused(world, make_client):
    assert make_client().post("/locale", {"locale": "fr"}).status_code == 400


def test_the_login_page_is_translated_for_anonymous_visitors(app, make_client):
    client = make_client()
    assert "登录" in client.get("/login").text
    client.post("/locale", {"locale": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").text


def test_money_is_integer_fen_formatted_per_locale(app):
    with app.test_request_context():
        assert money(123450) == "¥1,234.50"
        assert money(5) == "¥0.05"
        assert money(-199) == "-¥1.99"


def test_every_string_in_the_source_has_a_chinese_translation():
    """A string added without extracting and translating it would show in English to users."""
    root = Path(__file__).resolve().parent.parent
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    method_map = [("**.py", "python"), ("**.html", "jinja2")]
    in_source = set()
    for folder in ("app", "tenants", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / folder, method_map, keywords=keywords
        ):
            in_source.add(message if isinstance(message, str) else message[0])
    po_path = root / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    with po_path.open("rb") as po_file:
        catalogue = read_po(po_file, locale="zh_Hans_CN")
    untranslated = sorted(
        message
        for message in in_source
        if not (entry := catalogue.get(message)) or not any(_strings(entry.string))
    )
    assert untranslated == []


def _strings(value) -> tuple:
    return (value,) if isinstance(value, str) else tuple(value)


def test_labels_kept_translated_per_language_follow_the_viewer(world, make_client, client_for):
    create_member(world.village_a1, "会员甲")
    with force_locale("zh_Hans_CN"):
        active_in_chinese = str(STATUS_LABELS[MemberStatus.ACTIVE])
    assert active_in_chinese != "Active"
    url = "/a/village-a1/members/"
    chinese = make_client(world.secretary_a1.login).get(url).text
    english = client_for(world.secretary_a1.login).get(url).text
    assert f"<td>{active_in_chinese}</td>" in chinese and "<td>Active</td>" not in chinese
    assert "<td>Active</td>" in english


def test_a_template_rendered_for_someone_else_speaks_their_language(app):
    """Templates look each locale's catalogue up once (app/core/i18n.py); a message rendered
    inside force_locale (a notice in its recipient's language) must still follow it."""
    from flask import render_template_string

    page = "{{ _('Members') }}|{{ ngettext('%(num)d member', '%(num)d members', 2) }}"
    with app.test_request_context("/"):
        chinese = render_template_string(page)
        with force_locale("en"):
            english = render_template_string(page)
        again = render_template_string(page)
    assert english.split("|")[0] == "Members"
    assert chinese.split("|")[0] == again.split("|")[0] == "会员"
