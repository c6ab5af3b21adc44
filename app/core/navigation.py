"""The menu of an association's pages in the page header, rendered once per association, role
and language in each worker and then reused.

Twenty links, each a URL built and a name translated, cost more to render than the rest of the
header; they depend on nothing but what the key holds (the association's id, slug and kind, the
access flags the template reads, the language and the script root), so a change to any of
these is a new key and nothing needs invalidating. The partial reads only `menu` and
`url_for` (whose slug comes from the association in the key).
"""

from dataclasses import dataclass

from flask import Flask, g, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

MAX_MENUS = 4_096  # a few KB each; the oldest goes first


@dataclass(frozen=True)
class MenuKey:
    locale: str
    script_root: str
    association_id: int
    slug: str
    grassroots: bool
    can_read_registers: bool
    is_secretary: bool
    has_own_role: bool
    own_role_or_oversight: bool


_menus: dict[MenuKey, Markup] = {}


def association_menu() -> Markup:
    """The menu for the request's association and access (set by tenants.resolver)."""
    association, access = g.association, g.access
    key = MenuKey(
        locale=str(get_locale()),
        script_root=request.script_root,
        association_id=association.id,
        slug=association.slug,
        grassroots=association.kind.is_grassroots,
        can_read_registers=access.can_read_registers,
        is_secretary=access.is_secretary,
        has_own_role=access.own_role is not None,
        own_role_or_oversight=access.own_role is not None or access.oversight_from is not None,
    )
    menu = _menus.get(key)
    if menu is None:
        menu = Markup(render_template("_association_menu.html", menu=key))
        if len(_menus) >= MAX_MENUS:
            _menus.pop(next(iter(_menus), None), None)
        _menus[key] = menu
    return menu


def init_app(app: Flask) -> None:
    app.add_template_global(association_menu)
