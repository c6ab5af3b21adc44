"""Translated names of activity types and kinds of aid."""

from flask_babel import lazy_gettext as _l

from app.activities.models import ActivityType, AidKind

ACTIVITY_TYPE_LABELS = {
    ActivityType.PUBLICITY: _l("Publicity"),
    ActivityType.SERVICE: _l("Service"),
    ActivityType.TRAINING: _l("Training"),
    ActivityType.PERFORMANCE: _l("Performance"),
    ActivityType.HARDSHIP_VISIT: _l("Hardship visit"),
    ActivityType.FREE_CLINIC: _l("Free clinic"),
    ActivityType.MEMBER_DAY: _l("Member activity day"),
    ActivityType.OTHER: _l("Other"),
}

AID_KIND_LABELS = {
    AidKind.CASH: _l("Cash"),
    AidKind.RICE: _l("Rice"),
    AidKind.OIL: _l("Cooking oil"),
    AidKind.GOODS: _l("Goods"),
    AidKind.OTHER: _l("Other"),
}
