"""Every route of the app is swept for tenant isolation, without anyone listing it by hand here:
the routes come from the app's URL map, and each must appear in tests/tenancy/permissions.py."""

import pytest

from app import create_app
from tests.conftest import base_config
from tests.tenancy.objects import OBJECT_IDS
from tests.tenancy.permissions import PUBLIC_ROUTES, TENANT_ROUTES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _all_routes():
    app = create_app(base_config("sqlite://"))
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - IGNORED_METHODS):
            routes.append((rule.endpoint, method, rule.rule, tuple(sorted(rule.arguments))))
    return routes


ROUTES = _all_routes()
TENANT = [r for r in ROUTES if "slug" in r[3]]


def test_every_route_is_in_the_permission_table():
    missing = [
        (e, m, rule)
        for e, m, rule, args in ROUTES
        if (e, m) not in (TENANT_ROUTES if "slug" in args else PUBLIC_ROUTES)
    ]
    assert not missing, f"add these routes to tests/tenancy/permissions.py: {missing}"


def test_the_permission_table_lists_no_route_that_is_gone():
    existing = {(e, m) for e, m, _, _ in ROUTES}
    stale = (set(TENANT_ROUTES) | set(PUBLIC_ROUTES)) - existing
    assert not stale, f"remove from tests/tenancy/permissions.py: {sorted(stale)}"


def test_every_url_argument_has_an_object_maker():
    arguments = {a for _, _, _, args in TENANT for a in args if a != "slug"}
    assert arguments <= set(OBJECT_IDS), f"add makers to objects.py: {arguments - set(OBJECT_IDS)}"


def _url(app, endpoint, slug, ids):
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, slug=slug, **ids)


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, {})


def _ids(world, args, association):
    return {arg: OBJECT_IDS[arg](world, association) for arg in args if arg != "slug"}


@pytest.mark.parametrize(
    ("endpoint", "method", "rule", "args"), TENANT, ids=[f"{m} {rule}" for _, m, rule, _ in TENANT]
)
def test_tenant_route_answers_each_actor_as_the_table_says(
    app, world, make_client, endpoint, method, rule, args
):
    expected = TENANT_ROUTES[(endpoint, method)]
    actors = {
        "secretary": world.secretary_a1,
        "member": world.member_a1,
        "auditor": world.county_auditor,
    }
    for actor, user in actors.items():
        url = _url(app, endpoint, world.village_a1.slug, _ids(world, args, world.village_a1))
        response = _call(make_client(user.login), method, url)
        assert response.status_code == expected[actor], f"{actor} {method} {url}"


@pytest.mark.parametrize(
    ("endpoint", "method", "rule", "args"), TENANT, ids=[f"{m} {rule}" for _, m, rule, _ in TENANT]
)
def test_tenant_route_hides_other_associations(
    app, world, make_client, endpoint, method, rule, args
):
    own_ids = _ids(world, args, world.village_a1)
    url = _url(app, endpoint, world.village_a1.slug, own_ids)
    # A sibling, an auditor of another branch: the association does not exist for them.
    for outsider in (world.secretary_a2, world.secretary_b1, world.township_b_auditor):
        assert _call(make_client(outsider.login), method, url).status_code == 404, outsider.login
    # A child reaching up to its parent.
    up = _url(app, endpoint, world.township_a.slug, own_ids)
    assert _call(make_client(world.secretary_a1.login), method, up).status_code in (403, 404)
    # Another association's object ids under one's own slug.
    if own_ids:
        foreign = _url(app, endpoint, world.village_a1.slug, _ids(world, args, world.village_a2))
        assert _call(make_client(world.secretary_a1.login), method, foreign).status_code == 404
        # Roles refused the route itself may be told so first (403), but never see the object.
        assert _call(make_client(world.county_auditor.login), method, foreign).status_code in (
            403,
            404,
        )
    # Unknown slug, and nobody signed in.
    assert (
        _call(
            make_client(world.secretary_a1.login),
            method,
            _url(app, endpoint, "no-such-association", own_ids),
        ).status_code
        == 404
    )
    anonymous = _call(make_client(), method, url)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
