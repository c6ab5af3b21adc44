"""Every notice by the person's channel (notify_person): SMS to a mobile login or to a register
phone whose consent is recorded (then also instead of e-mail: she chose it), e-mail otherwise;
opting out is honoured; each notice once."""

from datetime import date

from sqlalchemy import select

from app.core import crypto
from app.core.notifications import Person, channel_for
from app.core.sms_outbox.consent import opt_out, record_consent
from app.core.sms_outbox.models import ConsentMethod, SmsConsent, SmsMessage, SmsStatus
from app.core.sms_outbox.sending import attempt
from app.dues import reminders
from app.extensions import db
from tests.dues.makers import create_charge
from tests.factories import create_member

PHONE = "13700001111"


def _consent(association, phone=PHONE):
    record_consent(
        association.id,
        phone,
        method=ConsentMethod.PAPER_FORM,
        consented_on=date(2026, 3, 1),
        purpose="通知",
        recorded_by_id=None,
    )
    db.session.commit()


def test_the_channel_follows_the_login_and_the_recorded_consent(world):
    village = world.village_a1.id
    assert channel_for(Person(login="a@test.cn", association_id=village)) == ("email", "a@test.cn")
    assert channel_for(Person(login="139 0000 1234", association_id=village)) == (
        "sms",
        "13900001234",
    )
    # A register phone without consent: no channel (and no e-mail to fall back on).
    assert channel_for(Person(phone=PHONE, association_id=village)) is None
    _consent(world.village_a1)
    assert channel_for(Person(phone=PHONE, association_id=village)) == ("sms", PHONE)
    # With an e-mail login too, the consent says she chose SMS.
    chose = Person(login="b@test.cn", phone=PHONE, association_id=village)
    assert channel_for(chose) == ("sms", PHONE)
    # The consent is the association's: another association has none.
    assert channel_for(Person(phone=PHONE, association_id=world.village_a2.id)) is None


def test_a_member_without_a_login_gets_her_dues_reminder_by_sms_once(world, outbox, sms_notices):
    member_id = create_member(world.village_a1, "王大妈", phone=PHONE).id
    silent_id = create_member(world.village_a1, "李大爷", phone="13700002222").id  # no consent
    create_charge(world.village_a1, member_id=member_id, due_on=date(2026, 6, 30))
    create_charge(world.village_a1, member_id=silent_id)
    _consent(world.village_a1)

    assert reminders.send_reminders_for(world.village_a1, on=date(2026, 7, 2)) == 1
    [(phone, text)] = sms_notices()
    assert phone == PHONE
    assert "2026" in text and "/sms/stop/" in text  # the notice and its opt-out link
    assert outbox == []
    # A second run sends nothing more; the member without consent was not reminded at all.
    assert reminders.send_reminders_for(world.village_a1, on=date(2026, 7, 3)) == 0
    assert len(sms_notices()) == 1


def test_a_number_that_opted_out_is_not_sent_the_notice(world, sms_notices):
    member_id = create_member(world.village_a1, "王大妈", phone=PHONE).id
    create_charge(world.village_a1, member_id=member_id, due_on=date(2026, 6, 30))
    _consent(world.village_a1)
    opt_out(crypto.lookup_hash(PHONE), source="reply")
    db.session.commit()

    reminders.send_reminders_for(world.village_a1, on=date(2026, 7, 2))
    [row] = db.session.scalars(select(SmsMessage)).all()
    assert row.status == SmsStatus.OPTED_OUT
    assert attempt(row.id) is None  # never sent


def test_the_secretary_records_a_consent_with_how_and_when(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    refused = secretary.post(
        "/a/village-a1/sms/consents",
        {"phone": "123", "method": "verbal", "consented_on": "2026-03-01"},
    )
    assert refused.status_code == 422 and "请输入 11 位手机号码" in refused.text
    assert db.session.scalars(select(SmsConsent)).all() == []

    done = secretary.post(
        "/a/village-a1/sms/consents",
        {"phone": "137 0000 1111", "method": "verbal", "consented_on": "2026-03-01"},
    )
    assert done.status_code == 303
    [consent] = db.session.scalars(select(SmsConsent)).all()
    assert consent.association_id == world.village_a1.id
    assert (consent.method, consent.consented_on) == (ConsentMethod.VERBAL, date(2026, 3, 1))
    assert consent.recorded_by_id == world.secretary_a1.id and consent.purpose
    assert consent.phone_hash == crypto.lookup_hash(PHONE)  # the number itself is not kept
    page = secretary.get("/a/village-a1/sms").text
    assert "137****1111" in page and PHONE not in page
