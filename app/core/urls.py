"""Absolute addresses of pages for messages that leave the site (e-mail, SMS), which a mail
program or a phone can only follow when they carry the scheme and host."""

import os

from flask import current_app, has_request_context, url_for


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
