"""Recording activities from the form: photos, aid, bad input, and failed uploads."""

import io
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import select

from app.activities.models import Activity, ActivityPhoto, HardshipAid
from app.activities.views import today
from app.core import uploads
from app.core.uploads import StoredFile
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.factories import create_activity
from tests.uploads import samples

URL = "/a/village-a1/activities"


def _form(**overrides):
    data = {
        "title": "婚育新风进万家宣传",
        "held_on": today().isoformat(),
        "type": "publicity",
        "place": "社区广场",
        "organiser": "社区计生协",
        "participant_count": "35",
        "description": "发放宣传资料200份",
    }
    data.update(overrides)
    return data


def _activities():
    with UNSCOPED_BYPASS("test assertion"):
        return db.session.scalars(select(Activity)).all()


def _photo_files(activity_id):
    with UNSCOPED_BYPASS("test assertion"):
        return db.session.scalars(
            select(StoredFile)
            .join(ActivityPhoto, ActivityPhoto.stored_file_id == StoredFile.id)
            .where(ActivityPhoto.activity_id == activity_id)
        ).all()


def test_secretary_records_an_activity_with_two_photos(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    data = _form(
        photos=[
            (io.BytesIO(samples.jpeg_with_gps()), "IMG_1.jpg"),
            (io.BytesIO(samples.png()), "IMG_2.png"),
        ]
    )
    response = client.post(f"{URL}/new", data, content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(response.location)
    text = page.get_data(as_text=True)
    assert "婚育新风进万家宣传" in text and "社区广场" in text
    [activity] = _activities()
    assert activity.participant_count == 35
    files = _photo_files(activity.id)
    assert sorted(f.content_type for f in files) == ["image/jpeg", "image/png"]
    assert text.count("/thumbnail") == 2
    with tenant_context(scope_for(world.village_a1, writable=False)):
        stored = uploads.read_file(next(f for f in files if f.content_type == "image/jpeg"))
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_staff_record_activities_and_members_may_not(app, world, make_client):
    assert make_client(world.staff_a1.login).post(f"{URL}/new", _form()).status_code == 303
    assert make_client(world.member_a1.login).post(f"{URL}/new", _form()).status_code == 403
    assert make_client(world.county_auditor.login).post(f"{URL}/new", _form()).status_code == 403
    assert len(_activities()) == 1


def test_a_future_date_is_refused_with_a_clear_message(app, world, make_client):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = make_client(world.secretary_a1.login).post(f"{URL}/new", _form(held_on=tomorrow))
    assert response.status_code == 422
    assert "日期不能晚于今天" in response.get_data(as_text=True)
    assert _activities() == []


def test_an_empty_title_is_refused(app, world, make_client):
    response = make_client(world.secretary_a1.login).post(f"{URL}/new", _form(title="   "))
    assert response.status_code == 422
    assert "请填写活动标题" in response.get_data(as_text=True)
    assert _activities() == []


def test_a_negative_or_missing_participant_count_is_refused(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    assert client.post(f"{URL}/new", _form(participant_count="-3")).status_code == 422
    response = client.post(f"{URL}/new", _form(participant_count=""))
    assert response.status_code == 422
    assert "请填写参加人数" in response.get_data(as_text=True)


def test_a_refused_photo_leaves_the_activity_and_its_other_photos(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    data = _form(
        photos=[
            (io.BytesIO(samples.jpeg()), "good.jpg"),
            (io.BytesIO(samples.HTML), "evil.jpg"),
        ]
    )
    response = client.post(f"{URL}/new", data, content_type="multipart/form-data")
    assert response.status_code == 303
    text = client.get(response.location).get_data(as_text=True)
    assert "evil.jpg" in text  # the refusal is reported by name
    [activity] = _activities()
    assert len(_photo_files(activity.id)) == 1


def test_a_50_mb_photo_is_refused_and_the_activity_keeps_its_photos(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"{URL}/new",
        _form(photos=[(io.BytesIO(samples.jpeg()), "first.jpg")]),
        content_type="multipart/form-data",
    )
    activity_id = _activities()[0].id
    huge = samples.jpeg() + b"\0" * (50 * 1024 * 1024)
    response = client.post(
        f"{URL}/{activity_id}/photos",
        {"photos": [(io.BytesIO(huge), "huge.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert len(_photo_files(activity_id)) == 1
    assert [a.title for a in _activities()] == ["婚育新风进万家宣传"]


def test_more_photos_can_be_added_and_removed(app, world, make_client):
    activity = create_activity(world.village_a1, title="义诊")
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"{URL}/{activity.id}/photos",
        {"photos": [(io.BytesIO(samples.webp()), "a.webp"), (io.BytesIO(samples.jpeg()), "b.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    files = _photo_files(activity.id)
    assert len(files) == 2
    with UNSCOPED_BYPASS("test"):
        photo = db.session.scalar(
            select(ActivityPhoto).where(ActivityPhoto.activity_id == activity.id)
        )
        photo_id = photo.id
    assert client.post(f"{URL}/photos/{photo_id}/delete").status_code == 303
    assert len(_photo_files(activity.id)) == 1


def test_hardship_visit_records_families_and_aid_in_fen(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    data = _form(
        title="春节慰问困难家庭",
        type="hardship_visit",
        **{
            "aid-0-family": "王家",
            "aid-0-kind": "cash",
            "aid-0-value": "500",
            "aid-1-family": "李家",
            "aid-1-kind": "rice",
            "aid-1-quantity": "2袋",
            "aid-1-value": "85.50",
        },
    )
    response = client.post(f"{URL}/new", data)
    assert response.status_code == 303
    with UNSCOPED_BYPASS("test"):
        aid = db.session.scalars(select(HardshipAid).order_by(HardshipAid.id)).all()
    assert [(a.family, a.kind.value, a.quantity, a.value_fen) for a in aid] == [
        ("王家", "cash", "", 50000),
        ("李家", "rice", "2袋", 8550),
    ]
    text = client.get(response.location).get_data(as_text=True)
    assert "¥585.50" in text


def test_aid_needs_a_family_and_a_plain_amount(app, world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"{URL}/new",
        _form(type="hardship_visit", **{"aid-0-family": "", "aid-0-value": "12.345"}),
    )
    assert response.status_code == 422
    assert _activities() == []


def test_aid_is_only_for_hardship_visits(app, world, make_client):
    response = make_client(world.secretary_a1.login).post(
        f"{URL}/new", _form(type="training", **{"aid-0-family": "王家", "aid-0-value": "10"})
    )
    assert response.status_code == 422


def test_editing_an_activity_keeps_its_photos(app, world, make_client):
    activity = create_activity(world.village_a1, title="旧标题", photos=1)
    client = make_client(world.secretary_a1.login)
    form = client.get(f"{URL}/{activity.id}/edit")
    assert "旧标题" in form.get_data(as_text=True)
    response = client.post(f"{URL}/{activity.id}/edit", _form(title="新标题"))
    assert response.status_code == 303
    assert [a.title for a in _activities()] == ["新标题"]
    assert len(_photo_files(activity.id)) == 1


def test_deleting_an_activity_removes_its_photo_files(app, world, make_client):
    activity = create_activity(world.village_a1, photos=2)
    client = make_client(world.secretary_a1.login)
    assert client.post(f"{URL}/{activity.id}/delete").status_code == 303
    assert _activities() == []
    with UNSCOPED_BYPASS("test"):
        assert db.session.scalars(select(StoredFile)).all() == []


def test_special_days_are_suggested_and_fill_the_form(app, world, make_client, monkeypatch):
    monkeypatch.setattr("app.activities.views.today", lambda: date(2026, 5, 30))
    client = make_client(world.secretary_a1.login)
    text = client.get(f"{URL}/new").get_data(as_text=True)
    assert "全国会员活动日" in text
    filled = client.get(f"{URL}/new?special=2026-05-29").get_data(as_text=True)
    assert 'value="2026-05-29"' in filled
    assert '<option selected value="member_day">' in filled
