"""The member's check-in code (the QR code on her home page) and reading it back at the door.

The code says only "this is membership M of user U in association A", signed with the app's
secret (HMAC, itsdangerous) under its own salt, so nobody can make one for someone else or
change the ids in it. It is not a link and not a credential: no page signs anyone in with it or
opens anything for its holder. Only a secretary or staff member of an event's association, on
the event's check-in page, can use it — and only to tick that member's name on the door list.
A membership that has ended makes its code worthless (the membership row must still exist).
"""

from dataclasses import dataclass

import segno
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

PREFIX = "XHC1."
SALT = "xiehui.event-checkin-card"


@dataclass(frozen=True)
class CardHolder:
    membership_id: int
    user_id: int
    association_id: int


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def card_token(*, membership_id: int, user_id: int, association_id: int) -> str:
    """The text the member's QR code holds."""
    return PREFIX + _serializer().dumps([membership_id, user_id, association_id])


def read_card(token: str) -> CardHolder | None:
    """Who the code names, or None when it is not a genuine code of this platform."""
    token = (token or "").strip()
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    try:
        ids = _serializer().loads(token[len(PREFIX) :])
    except BadSignature:
        return None
    if not (isinstance(ids, list) and len(ids) == 3 and all(type(i) is int for i in ids)):
        return None
    return CardHolder(*ids)


def qr_svg(token: str) -> str:
    """The code drawn on the server as inline SVG (no script needed to show it)."""
    return segno.make(token, error="m").svg_inline(
        dark="#000", light="#fff", border=4, omitsize=True
    )
