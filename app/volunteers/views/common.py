"""Volunteer pages: what the parts share."""

from flask import abort, g, request
from flask_login import current_user

from app.core.clock import CHINA, utcnow
from app.core.views import require
from app.volunteers import services

has_role = require(lambda access: access.own_role is not None, "own role")


def _year() -> int:
    current = utcnow().astimezone(CHINA).year
    year = request.args.get("year", type=int) or current
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _my_volunteer():
    return services.volunteer_of_user(current_user.id) if g.access.own_role else None
