"""What every part of volunteering shares: the limits, the two problems, the writable scope."""

from datetime import UTC, datetime

from app.core.clock import CHINA
from app.core.problems import Problem
from tenants.context import scope_for, tenant_context
from tenants.models import Association

MAX_PEOPLE = 1000
MAX_MINUTES = 24 * 60
MAX_REPEATS = 12
PAST_DAYS = 366  # how far back a shift or hours may be recorded after the fact


class VolunteerRefused(Problem):
    """An action the rules refuse; `message` is translated (lazy)."""


class VolunteerInvalid(Problem):
    """The input breaks a rule; `problems` maps a field name to a translated message."""


def _writable(association: Association):
    """The association's writable scope, for writes a member may make (their own sign-up,
    a team leader's actions); never for a suspended association."""
    return tenant_context(scope_for(association, writable=association.suspended_at is None))


def beijing_year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=CHINA).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA).astimezone(UTC)
    return start, end
