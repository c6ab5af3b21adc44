"""Absolute addresses of pages for messages that leave the site (e-mail, SMS), which a mail
program or a phone can only follow when they carry the scheme and host."""

import os
from functools import lru_cache

from flask import Flask, current_app, g, has_request_context, request, url_for


def absolute_url(endpoint: str, **values) -> str:
    """In a request: the request's scheme and host (as the proxy passed them). Outside one (a
    job): the configured BASE_URL or XIEHUI_BASE_URL; without either, the path alone."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base_url = current_app.config.get("BASE_URL") or os.environ.get("XIEHUI_BASE_URL")
    if not base_url:
        return current_app.url_map.bind("").build(endpoint, values)
    with current_app.test_request_context(base_url=base_url):
        return url_for(endpoint, _external=True, **values)


# An id no table reaches, standing in for the real one while the address is built once.
_STAND_IN = 987_654_321_987


def url_maker(endpoint: str, argument: str, **values):
    """`url_for(endpoint, argument=id, **values)` for many ids, the route matched once: a list
    page links every row (20–200 rows, each a full `url_for` through the URL map, a tenth of the
    member list's time in the worker)."""
    prefix, suffix = url_for(endpoint, **{argument: _STAND_IN}, **values).split(str(_STAND_IN))
    return lambda value: f"{prefix}{int(value)}{suffix}"


def template_url_for(endpoint: str, **values) -> str:
    """`url_for` for templates, each address built once per worker: a page builds thirty (the
    menu, the actions, the pager), the same on every request, a twentieth of the member list's
    time in the worker. The key holds all an address depends on here: the endpoint and its
    values, the association whose slug fills in (tenants/resolver.py), the blueprint of a
    relative endpoint, the script root, and scheme and host for an absolute one. Static files
    are left out: their fingerprint follows the file on disk (app/core/static_files.py)."""
    if endpoint == "static" or not has_request_context():  # a job's e-mail: no request
        return url_for(endpoint, **values)
    association = g.get("association")
    key = (
        endpoint,
        tuple(sorted(values.items())),
        association.slug if association is not None else None,
        request.blueprint if endpoint.startswith(".") else None,
        request.script_root,
        (request.scheme, request.host) if values.get("_external") else None,
    )
    try:
        return _built(current_app._get_current_object(), key)
    except TypeError:  # a value that cannot be a key (a list): built as usual
        return url_for(endpoint, **values)


@lru_cache(maxsize=4096)
def _built(app: Flask, key: tuple) -> str:
    endpoint, values = key[:2]
    return url_for(endpoint, **dict(values))
