"""Templates build each address once per worker (app/core/urls.py: template_url_for); what an
address depends on is in its key, so a cached one is never another association's, another
mount point's or another host's."""

from types import SimpleNamespace

from flask import g, render_template_string, url_for
from markupsafe import escape

LINKS = "{{ url_for('members.index') }}|{{ url_for('members.index', q='张', page=2) }}"


def _links(app, *, slug: str, base_url: str = "http://localhost/", path: str = "/") -> list[str]:
    with app.test_request_context(path, base_url=base_url):
        g.association = SimpleNamespace(slug=slug)
        return render_template_string(LINKS).split("|")


def test_each_association_gets_links_to_its_own_pages(app):
    first = _links(app, slug="village-a1")
    second = _links(app, slug="village-a2")
    assert first[0] == "/a/village-a1/members/"
    assert second[0] == "/a/village-a2/members/"
    assert second[1].startswith("/a/village-a2/members/?") and "page=2" in second[1]


def test_a_site_mounted_under_a_prefix_keeps_it_in_its_links(app):
    assert _links(app, slug="v", base_url="http://localhost/xiehui/")[0] == "/xiehui/a/v/members/"
    assert _links(app, slug="v")[0] == "/a/v/members/"


def test_absolute_links_carry_the_requests_own_host(app):
    page = "{{ url_for('members.index', _external=True) }}"
    for host in ("a.example.cn", "b.example.cn"):
        with app.test_request_context("/", base_url=f"https://{host}/"):
            g.association = SimpleNamespace(slug="v")
            assert render_template_string(page) == f"https://{host}/a/v/members/"


def test_a_relative_endpoint_follows_the_blueprint_of_the_request(app):
    page = "{{ url_for('.index') }}"
    links = []
    for path in ("/a/v/members/", "/a/v/households/"):
        with app.test_request_context(path):
            g.association = SimpleNamespace(slug="v")
            links.append(render_template_string(page))
    assert links == ["/a/v/members/", "/a/v/households/"]


def test_a_value_that_cannot_be_a_key_is_built_as_url_for_builds_it(app):
    page = "{{ url_for('members.index', tag=['五老', '志愿者']) }}"
    with app.test_request_context("/"):
        g.association = SimpleNamespace(slug="v")
        expected = url_for("members.index", tag=["五老", "志愿者"])
        assert "tag=" in expected and render_template_string(page) == escape(expected)
