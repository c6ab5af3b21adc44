"""Links in messages that leave the site are absolute: from a request's host, or in a job from
the configured site address."""

from app.core.urls import absolute_url


def test_a_job_builds_links_from_the_configured_site_address(app, monkeypatch):
    monkeypatch.delenv("XIEHUI_BASE_URL", raising=False)
    with app.app_context():
        app.config["BASE_URL"] = "https://xiehui.example.cn"
        assert (
            absolute_url("oversight.task", slug="village-a1", task_id=7)
            == "https://xiehui.example.cn/a/village-a1/oversight/tasks/7"
        )


def test_a_request_builds_links_from_its_own_host(app):
    with app.test_request_context(base_url="https://a.example.cn"):
        assert absolute_url("members.moves", slug="v").startswith("https://a.example.cn/a/v/")


def test_a_list_builds_its_rows_links_as_url_for_would(app):
    from flask import url_for

    from app.core.urls import url_maker

    with app.test_request_context(base_url="https://a.example.cn"):
        member_url = url_maker("members.show", "member_id", slug="village-a1")
        for member_id in (1, 7, 42, 987_654_321_987, 2**40):
            assert member_url(member_id) == url_for(
                "members.show", slug="village-a1", member_id=member_id
            )
