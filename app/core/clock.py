"""China's date and time: the one clock of the application (Asia/Shanghai, UTC+8).

The server runs on UTC; from 16:00 to 24:00 UTC China is already on the next day, so "today",
"this year" and "this quarter" are always read from here, never from `date.today()`. Instants
are stored in UTC (`utcnow`), and every "now" of the application comes from this module.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_now() -> datetime:
    """The current time in China (timezone-aware)."""
    return datetime.now(CHINA)


def china_today() -> date:
    """Today's date in China."""
    return china_now().date()


def utcnow() -> datetime:
    """The current instant in UTC (timezone-aware): what `*_at` columns store."""
    return datetime.now(UTC)
