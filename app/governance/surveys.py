"""The residents' evaluation (评议): a survey per year, answered once per household with a
printed one-time code or a code texted to a phone; results, satisfaction and moderated comments.

Nothing links an answer to a code or a phone: codes and phones are kept as keyed hashes only,
the response row keeps neither, and codes are stored in another order than printed."""

import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.accounts.notices import notify_users, secretaries_of
from app.core import crypto
from app.core.clock import china_today, utcnow
from app.core.dates import date_problem
from app.core.notifications import notify_sms
from app.core.phones import validate_phone
from app.dashboards.definitions import share
from app.extensions import db
from app.governance.models import (
    CommentState,
    Survey,
    SurveyCode,
    SurveyPhone,
    SurveyResponse,
    YearPlan,
)
from app.governance.plans import GovernanceError
from app.members.models import Household
from tenants.models import Association

# --- the residents' evaluation (评议) ---------------------------------------------------------

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a printed slip
CODE_LENGTH = 8
MAX_CODES_PER_BATCH = 500
SATISFIED = (4, 5)  # satisfied, very satisfied
COMMENT_STATE_LABELS = {
    CommentState.PENDING: _l("Waiting for moderation"),
    CommentState.PUBLISHED: _l("Published"),
    CommentState.HIDDEN: _l("Kept private"),
}
SCORE_LABELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Neutral"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}


def household_count() -> int:
    """Households of the register: what the number of responses is read against."""
    return db.session.scalar(select(func.count()).select_from(Household)) or 0


def year_of_survey(survey_id: int) -> int:
    return db.session.scalar(select(Survey.year).where(Survey.id == survey_id))


def latest_survey_year() -> int | None:
    return db.session.scalar(select(func.max(Survey.year)))


def survey_for(year: int) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.year == year))


def open_survey(year: int, *, closes_on: date, target_percent: int = 95) -> Survey:
    """Open the year's evaluation (once); it needs the year's plan published."""
    plan = db.session.scalar(select(YearPlan).where(YearPlan.year == year))
    if plan is None or not plan.is_published:
        raise GovernanceError(_l("Publish the year's plan before opening its evaluation."))
    if survey_for(year) is not None:
        raise GovernanceError(_l("The evaluation of this year is already open."), status=409)
    problem = date_problem(closes_on)
    if problem or closes_on < china_today():
        raise GovernanceError(
            problem or _l("Choose a closing date from today on."), field="closes_on"
        )
    if not 1 <= target_percent <= 100:
        raise GovernanceError(_l("A percentage target is at most 100."), field="target_percent")
    survey = Survey(year=year, closes_on=closes_on, target_percent=target_percent)
    db.session.add(survey)
    db.session.flush()
    return survey


def _code_hash(code: str) -> str:
    return crypto.lookup_hash("survey-code:" + normalise_code(code))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue_codes(survey: Survey, count: int) -> list[str]:
    """New one-time codes to print: returned once, kept only as keyed hashes."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise GovernanceError(
            _l("Print between 1 and %(n)d codes at a time.", n=MAX_CODES_PER_BATCH), field="count"
        )
    if survey.closes_on < china_today():
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    codes = []
    for _ in range(count):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        codes.append(f"{code[:4]}-{code[4:]}")
    # Stored in another order than printed: a row's id says nothing about which slip it was.
    for code in secrets.SystemRandom().sample(codes, len(codes)):
        db.session.add(SurveyCode(survey_id=survey.id, code_hash=_code_hash(code)))
    survey.codes_issued += count
    db.session.flush()
    return codes


@dataclass(frozen=True)
class Answers:
    overall: int
    scores: dict[int, int]  # commitment id → 1–5
    comment: str = ""


def answer_survey(survey: Survey, code: str, answers: Answers, *, today: date) -> SurveyResponse:
    """One response per code: the code is spent by one conditional UPDATE (two answers with the
    same code at once: one wins, the other is refused), and the response keeps no link to it."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    _check_answers(answers)
    spent = db.session.execute(
        update(SurveyCode)
        .where(
            SurveyCode.survey_id == survey.id,
            SurveyCode.code_hash == _code_hash(code),
            SurveyCode.used.is_(False),
        )
        .values(used=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise GovernanceError(
            _l("This code is not valid or has already been used."), status=409, field="code"
        )
    return _record_answers(survey, answers, today)


def _check_answers(answers: Answers) -> None:
    if answers.overall not in SCORE_LABELS or any(
        score not in SCORE_LABELS for score in answers.scores.values()
    ):
        raise GovernanceError(_l("Choose a rating from 1 to 5."), field="overall")


def _record_answers(survey: Survey, answers: Answers, today: date) -> SurveyResponse:
    _check_answers(answers)
    response = SurveyResponse(
        survey_id=survey.id,
        answered_on=today,
        overall=answers.overall,
        scores={str(k): v for k, v in answers.scores.items()},
        comment=answers.comment.strip()[:2000],
    )
    db.session.add(response)
    db.session.flush()
    _flag_a_burst(survey, today)
    return response


BURST_ANSWERS_PER_DAY = 50


def _flag_a_burst(survey: Survey, today: date) -> None:
    """Many answers in one day may be ballot stuffing (codes collected and filled in by one
    hand): the secretaries here and one level up are told once that day, with the count only."""
    if survey.burst_flagged_on == today:
        return
    answered = db.session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.answered_on == today)
    )
    if answered < BURST_ANSWERS_PER_DAY:
        return
    survey.burst_flagged_on = today
    db.session.flush()
    association = db.session.get(Association, survey.association_id)
    parent = db.session.get(Association, association.parent_id) if association.parent_id else None
    readers = secretaries_of(association) + (secretaries_of(parent) if parent else [])

    def write():
        return (
            gettext("Residents' evaluation: many answers today"),
            gettext(
                "%(association)s received %(n)d answers to its evaluation today. "
                "Check that the codes reached the households.",
                association=association.name,
                n=answered,
            ),
        )

    notify_users(
        readers,
        write,
        key=f"survey-burst:{survey.id}:{today.isoformat()}",
        association_id=survey.association_id,
    )


@dataclass(frozen=True)
class SurveyResults:
    responses: int
    satisfied: int
    codes_issued: int
    codes_used: int
    by_commitment: dict[int, tuple[int, int]]  # commitment id → (satisfied, answers)

    @property
    def satisfaction(self) -> Fraction | None:
        """满意率 = (satisfied + very satisfied) ÷ responses."""
        return share(self.satisfied, self.responses)


def survey_results(survey: Survey) -> SurveyResults:
    rows = db.session.execute(
        select(SurveyResponse.overall, SurveyResponse.scores).where(
            SurveyResponse.survey_id == survey.id
        )
    ).all()
    by_commitment: dict[int, list[int]] = {}
    for _overall, scores in rows:
        for key, score in (scores or {}).items():
            counts = by_commitment.setdefault(int(key), [0, 0])
            counts[0] += score in SATISFIED
            counts[1] += 1
    used = db.session.scalar(
        select(func.count())
        .select_from(SurveyCode)
        .where(SurveyCode.survey_id == survey.id, SurveyCode.used.is_(True))
    )
    return SurveyResults(
        responses=len(rows),
        satisfied=sum(1 for overall, _ in rows if overall in SATISFIED),
        codes_issued=survey.codes_issued,
        codes_used=used,
        by_commitment={key: (s, n) for key, (s, n) in by_commitment.items()},
    )


def survey_comments(survey: Survey, *, published_only: bool) -> list[SurveyResponse]:
    query = select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.comment != ""
    )
    if published_only:
        query = query.where(SurveyResponse.comment_state == CommentState.PUBLISHED)
    return list(db.session.scalars(query.order_by(SurveyResponse.id)))


def moderate_comment(response: SurveyResponse, *, publish: bool) -> None:
    response.comment_state = CommentState.PUBLISHED if publish else CommentState.HIDDEN
    db.session.flush()


# --- verification by SMS (for residents with a phone) -----------------------------------------

SMS_CODE_MINUTES = 10
MAX_CODES_PER_PHONE = 3
MAX_WRONG_CODES = 5


class WrongSmsCode(GovernanceError):
    """A wrong SMS code: counted (and committed by the view) before the answer is refused."""


def _phone_hash(phone: str) -> str:
    return crypto.lookup_hash("survey-phone:" + phone)


def _sms_code_hash(phone_hash: str, code: str) -> str:
    return crypto.lookup_hash(f"survey-sms:{phone_hash}:{code.strip()}")


def _checked_phone(raw: str) -> str:
    try:
        return validate_phone(raw)
    except ValueError:
        raise GovernanceError(_l("Enter an 11-digit mobile number."), field="phone") from None


def send_phone_code(survey: Survey, raw_phone: str, *, today: date) -> None:
    """Text a six-digit code to a phone that has not answered yet (at most three per phone).
    Only the phone's keyed hash is kept; the number goes no further than the SMS itself."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    phone = _checked_phone(raw_phone)
    phone_hash = _phone_hash(phone)
    row = db.session.scalar(
        select(SurveyPhone).where(
            SurveyPhone.survey_id == survey.id, SurveyPhone.phone_hash == phone_hash
        )
    )
    if row is None:
        row = SurveyPhone(survey_id=survey.id, phone_hash=phone_hash, codes_sent=0)
        db.session.add(row)
    if row.answered:
        raise GovernanceError(_l("This phone has already answered."), status=409, field="phone")
    if row.codes_sent >= MAX_CODES_PER_PHONE:
        raise GovernanceError(
            _l("Too many codes were sent to this phone. Ask the secretary for a printed slip."),
            status=429,
            field="phone",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row.code_hash = _sms_code_hash(phone_hash, code)
    row.code_expires_at = utcnow() + timedelta(minutes=SMS_CODE_MINUTES)
    row.codes_sent += 1
    row.failed_attempts = 0
    db.session.flush()
    notify_sms(
        phone,
        gettext(
            "Your code for the residents' evaluation: %(code)s (valid %(minutes)d minutes).",
            code=code,
            minutes=SMS_CODE_MINUTES,
        ),
    )


def answer_survey_by_phone(
    survey: Survey, raw_phone: str, sms_code: str, answers: Answers, *, today: date
) -> SurveyResponse:
    """One answer per phone, verified by the code texted to it."""
    if today > survey.closes_on:
        raise GovernanceError(_l("The evaluation is closed."), status=409)
    _check_answers(answers)
    phone_hash = _phone_hash(_checked_phone(raw_phone))
    row = db.session.scalar(
        select(SurveyPhone).where(
            SurveyPhone.survey_id == survey.id, SurveyPhone.phone_hash == phone_hash
        )
    )
    refused = _l("The SMS code is wrong or has expired: ask for a new one.")
    if row is None or row.answered or row.code_hash is None or row.code_expires_at < utcnow():
        raise GovernanceError(refused, status=409, field="sms_code")
    if row.failed_attempts >= MAX_WRONG_CODES:
        raise GovernanceError(refused, status=409, field="sms_code")
    if not hmac.compare_digest(row.code_hash, _sms_code_hash(phone_hash, sms_code)):
        row.failed_attempts += 1
        db.session.flush()
        raise WrongSmsCode(refused, status=409, field="sms_code")
    spent = db.session.execute(
        update(SurveyPhone)
        .where(SurveyPhone.id == row.id, SurveyPhone.answered.is_(False))
        .values(answered=True, code_hash=None, code_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise GovernanceError(_l("This phone has already answered."), status=409, field="phone")
    return _record_answers(survey, answers, today)
