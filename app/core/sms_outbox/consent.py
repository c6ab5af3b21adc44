"""Consent to an association's notices by SMS, as the secretary recorded it, and the
numbers that opted out of notices (which always wins)."""

from datetime import date

from sqlalchemy import select

from app.core import crypto
from app.core.sms import mask_phone
from app.core.sms_outbox.models import ConsentMethod, SmsConsent, SmsOptOut
from app.extensions import db


def record_consent(
    association_id: int,
    phone: str,
    *,
    method: ConsentMethod,
    consented_on: date,
    purpose: str,
    recorded_by_id: int | None,
) -> SmsConsent:
    """Record (or update) the number's consent to the association's notices; flushes."""
    phone_hash = crypto.lookup_hash(phone)
    consent = db.session.scalar(
        select(SmsConsent).where(
            SmsConsent.association_id == association_id, SmsConsent.phone_hash == phone_hash
        )
    )
    if consent is None:
        consent = SmsConsent(association_id=association_id, phone_hash=phone_hash)
        db.session.add(consent)
    consent.phone_masked = mask_phone(phone)
    consent.method, consent.consented_on, consent.purpose = method, consented_on, purpose[:200]
    consent.recorded_by_id = recorded_by_id
    db.session.flush()
    return consent


def has_consent(association_id: int | None, phone: str) -> bool:
    if association_id is None:
        return False
    return (
        db.session.scalar(
            select(SmsConsent.id).where(
                SmsConsent.association_id == association_id,
                SmsConsent.phone_hash == crypto.lookup_hash(phone),
            )
        )
        is not None
    )


def consents_of(association_id: int, limit: int = 100) -> list[SmsConsent]:
    return list(
        db.session.scalars(
            select(SmsConsent)
            .where(SmsConsent.association_id == association_id)
            .order_by(SmsConsent.id.desc())
            .limit(limit)
        )
    )


def is_opted_out(phone: str) -> bool:
    return (
        db.session.scalar(
            select(SmsOptOut.id).where(SmsOptOut.phone_hash == crypto.lookup_hash(phone))
        )
        is not None
    )


def opt_out(phone_hash: str, *, source: str) -> bool:
    """Record the opt-out (flushes); False when it was already recorded."""
    if db.session.scalar(select(SmsOptOut.id).where(SmsOptOut.phone_hash == phone_hash)):
        return False
    db.session.add(SmsOptOut(phone_hash=phone_hash, source=source))
    db.session.flush()
    return True


def opted_out_hashes(hashes: list[str]) -> set[str]:
    """Those of the lookup hashes whose number opted out (one query per 900)."""
    found: set[str] = set()
    for start in range(0, len(hashes), 900):
        found.update(
            db.session.scalars(
                select(SmsOptOut.phone_hash).where(
                    SmsOptOut.phone_hash.in_(hashes[start : start + 900])
                )
            )
        )
    return found


def opted_out_phones(phones: list[str]) -> set[str]:
    """Those of `phones` that opted out (one query per 900 numbers)."""
    hashes = {crypto.lookup_hash(phone): phone for phone in phones}
    return {hashes[found] for found in opted_out_hashes(list(hashes))}
