"""Recording activities, their photos and aid; the timeline, yearly report and quarterly rules."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, extract, func, select
from sqlalchemy.orm import selectinload

from app.activities import participants
from app.activities.models import Activity, ActivityPhoto, ActivityType, AidKind, HardshipAid
from app.core import uploads
from app.core.pagination import Page, paginate_rows
from app.core.problems import Problem
from app.extensions import db

ACTIVITIES_PER_YEAR = 4  # 一个季度开展一次活动,一年不少于四次
MAX_PHOTOS_PER_REQUEST = 12


@dataclass(frozen=True)
class SpecialDay:
    """A day that matters to associations, suggested when recording around it."""

    month: int
    day: int
    label: object  # lazy translated string
    type: ActivityType


SPECIAL_DAYS = (
    SpecialDay(5, 29, _l("National member activity day (5.29)"), ActivityType.MEMBER_DAY),
    SpecialDay(7, 11, _l("World Population Day (7.11)"), ActivityType.PUBLICITY),
    SpecialDay(5, 1, _l("Labour Day (5.1)"), ActivityType.SERVICE),
    SpecialDay(6, 1, _l("Children's Day (6.1)"), ActivityType.PERFORMANCE),
    SpecialDay(10, 1, _l("National Day (10.1)"), ActivityType.PERFORMANCE),
)


def special_days_near(
    today: date, *, before: int = 14, after: int = 30
) -> list[tuple[date, SpecialDay]]:
    """Special days from `before` days ago to `after` days ahead, nearest first; only days up to
    today can be recorded, later ones are shown as coming up."""
    found = []
    for special in SPECIAL_DAYS:
        for year in (today.year - 1, today.year, today.year + 1):
            day = date(year, special.month, special.day)
            if today - timedelta(days=before) <= day <= today + timedelta(days=after):
                found.append((day, special))
    return sorted(found, key=lambda pair: abs((pair[0] - today).days))


# --- rules ------------------------------------------------------------------------------------


@dataclass
class AidInput:
    family: str
    kind: AidKind
    quantity: str
    value_fen: int


@dataclass
class ActivityInput:
    held_on: date
    title: str
    type: ActivityType
    place: str = ""
    organiser: str = ""
    participant_count: int = 0
    description: str = ""
    aid: list[AidInput] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)


class ActivityInvalid(Problem):
    """The input breaks a rule; `problems` maps a field name to a translated message."""


def activity_problems(data: ActivityInput, *, today: date) -> dict:
    problems = {}
    if not data.title.strip():
        problems["title"] = _l("Give the activity a title.")
    if data.held_on > today:
        problems["held_on"] = _l(
            "The date cannot be in the future: record an activity once it has taken place."
        )
    elif data.held_on < date(2000, 1, 1):
        problems["held_on"] = _l("Check the date: it is too far in the past.")
    if data.participant_count < 0:
        problems["participant_count"] = _l("The number of participants cannot be negative.")
    elif data.participant_count < len(set(data.member_ids)):
        problems["participant_count"] = _l(
            "%(listed)d members are listed, so at least %(listed)d people took part.",
            listed=len(set(data.member_ids)),
        )
    if data.aid and data.type != ActivityType.HARDSHIP_VISIT:
        problems["aid"] = _l("Aid can only be recorded for hardship visits.")
    return problems


def _apply(activity: Activity, data: ActivityInput) -> None:
    activity.held_on = data.held_on
    activity.title = data.title.strip()
    activity.type = data.type
    activity.place = data.place.strip()
    activity.organiser = data.organiser.strip()
    activity.participant_count = data.participant_count
    activity.description = data.description.strip()


def record_activity(data: ActivityInput, *, recorded_by_id: int | None, today: date) -> Activity:
    problems = activity_problems(data, today=today)
    if problems:
        raise ActivityInvalid(problems)
    activity = Activity(recorded_by_id=recorded_by_id)
    _apply(activity, data)
    activity.aid = [HardshipAid(**vars(row)) for row in data.aid]
    activity.photos = []
    db.session.add(activity)
    db.session.flush()
    _set_participants(activity, data.member_ids)
    return activity


def _set_participants(activity: Activity, member_ids) -> None:
    try:
        participants.set_participants(activity, member_ids)
    except participants.UnknownMembers as unknown:
        raise ActivityInvalid(unknown.problems) from None


def update_activity(activity: Activity, data: ActivityInput, *, today: date) -> Activity:
    problems = activity_problems(data, today=today)
    if problems:
        raise ActivityInvalid(problems)
    _apply(activity, data)
    activity.aid = [HardshipAid(**vars(row)) for row in data.aid]
    db.session.flush()
    _set_participants(activity, data.member_ids)
    return activity


def delete_activity(activity: Activity) -> None:
    """The activity, its aid and its photos (bytes removed once the deletion commits)."""
    # The activity (and through it its photo rows) first, then the stored files: a stored file
    # deleted first takes its photo row with it through the foreign key, and the activity's
    # cascade then deleted that row a second time (SQLAlchemy warned that 0 rows matched).
    stored_files = [photo.stored_file for photo in activity.photos]
    db.session.delete(activity)
    db.session.flush()
    for stored in stored_files:
        uploads.delete_stored_file(stored)


@dataclass
class PhotoFailure:
    filename: str
    message: object
    status: int = 422


def add_photos(
    activity: Activity, files, *, association_id: int, uploaded_by_id: int | None
) -> tuple[list[ActivityPhoto], list[PhotoFailure]]:
    """Keep each acceptable photo; a refused one is reported and changes nothing else."""
    added: list[ActivityPhoto] = []
    failures: list[PhotoFailure] = []
    for file in files:
        name = getattr(file, "filename", "") or ""
        if len(added) >= MAX_PHOTOS_PER_REQUEST:
            failures.append(
                PhotoFailure(name, _l("At most %(n)d photos at a time.", n=MAX_PHOTOS_PER_REQUEST))
            )
            continue
        try:
            stored = uploads.store_upload(
                file,
                uploads.PHOTO,
                association_id=association_id,
                uploaded_by_id=uploaded_by_id,
            )
        except uploads.UploadRejected as rejected:
            failures.append(PhotoFailure(name, rejected.message, rejected.status))
            continue
        photo = ActivityPhoto(activity=activity, stored_file=stored)
        db.session.add(photo)
        added.append(photo)
    db.session.flush()
    return added, failures


def delete_photo(photo: ActivityPhoto) -> None:
    uploads.delete_stored_file(photo.stored_file)


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilter:
    year: int | None = None
    quarter: int | None = None
    type: ActivityType | None = None

    def apply(self, query: Select) -> Select:
        if self.year:
            start, end = date(self.year, 1, 1), date(self.year + 1, 1, 1)
            if self.quarter:
                start = date(self.year, 3 * self.quarter - 2, 1)
                end = (
                    date(self.year + 1, 1, 1)
                    if self.quarter == 4
                    else date(self.year, 3 * self.quarter + 1, 1)
                )
            query = query.where(Activity.held_on >= start, Activity.held_on < end)
        if self.type:
            query = query.where(Activity.type == self.type)
        return query


def timeline(filters: TimelineFilter, *, page: int, per_page: int = 20) -> Page:
    """A page of activities, newest first, with photos and aid: three queries whatever the size."""
    query = filters.apply(
        select(Activity)
        .options(selectinload(Activity.photos), selectinload(Activity.aid))
        .order_by(Activity.held_on.desc(), Activity.id.desc())
    )
    result = paginate_rows(query, page=page, per_page=per_page)
    return Page(
        items=[row[0] for row in result.items],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
    )


def activity_years(today: date) -> list[int]:
    """Years with activities, and the current one, newest first."""
    years = db.session.scalars(select(extract("year", Activity.held_on)).distinct()).all()
    return sorted({int(year) for year in years} | {today.year}, reverse=True)


def load_activity(activity_id: int) -> Activity | None:
    return db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.photos), selectinload(Activity.aid))
    )


@dataclass(frozen=True)
class QuarterStatus:
    quarter: int
    count: int
    ended: bool
    current: bool

    @property
    def missing(self) -> bool:
        """An ended quarter with no activity: a gap a higher association will see."""
        return self.ended and self.count == 0


@dataclass(frozen=True)
class Compliance:
    year: int
    quarters: list[QuarterStatus]
    target: int = ACTIVITIES_PER_YEAR

    @property
    def total(self) -> int:
        return sum(q.count for q in self.quarters)

    @property
    def gaps(self) -> list[int]:
        return [q.quarter for q in self.quarters if q.missing]

    @property
    def met(self) -> bool:
        """Every quarter has an activity and the year has at least four."""
        return self.total >= self.target and all(q.count > 0 for q in self.quarters)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def compliance_from_dates(year: int, dates, *, today: date) -> Compliance:
    """The rule itself, on plain dates (tested without a database)."""
    counts = Counter(quarter_of(day) for day in dates if day.year == year)
    quarters = []
    for quarter in range(1, 5):
        last_month = 3 * quarter
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, last_month + 1, 1)
        start = date(year, last_month - 2, 1)
        quarters.append(
            QuarterStatus(
                quarter=quarter,
                count=counts.get(quarter, 0),
                ended=today >= end,
                current=start <= today < end,
            )
        )
    return Compliance(year=year, quarters=quarters)


def compliance(year: int, *, today: date) -> Compliance:
    """The current association's activities per quarter of `year` (one query)."""
    dates = db.session.scalars(
        select(Activity.held_on).where(
            Activity.held_on >= date(year, 1, 1), Activity.held_on < date(year + 1, 1, 1)
        )
    ).all()
    return compliance_from_dates(year, dates, today=today)


def activity_count(year: int) -> int:
    return db.session.scalar(
        select(func.count(Activity.id)).where(
            Activity.held_on >= date(year, 1, 1), Activity.held_on < date(year + 1, 1, 1)
        )
    )


@dataclass
class YearReport:
    year: int
    activities: list[Activity]
    participants_by_activity: dict[int, list[str]]
    compliance: Compliance
    by_type: dict
    participants: int
    aid_value_fen: int


def yearly_report(year: int, *, today: date) -> YearReport:
    """The 活动记录 of one year, oldest first, as a higher association inspects it."""
    activities = list(
        db.session.scalars(
            TimelineFilter(year=year)
            .apply(select(Activity))
            .options(selectinload(Activity.photos), selectinload(Activity.aid))
            .order_by(Activity.held_on, Activity.id)
        )
    )
    return YearReport(
        year=year,
        activities=activities,
        participants_by_activity=participants.names_by_activity([a.id for a in activities]),
        compliance=compliance_from_dates(year, [a.held_on for a in activities], today=today),
        by_type=Counter(activity.type for activity in activities),
        participants=sum(activity.participant_count for activity in activities),
        aid_value_fen=sum(aid.value_fen for activity in activities for aid in activity.aid),
    )
