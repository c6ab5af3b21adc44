"""Benchmark: re-encoding phone photos and rendering the timeline with many activities.

Run: .venv/bin/python -m tests.activities.bench_activities
Prints the time to check and keep a 12-megapixel phone JPEG (with EXIF), and the timeline
page's time and query count with 500 activities of 3 photos each (SQLite, one process).
"""

import io
import statistics
import tempfile
import time
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import event

from app import create_app
from app.activities.models import Activity, ActivityPhoto, ActivityType
from app.core.uploads import PHOTO, store_upload
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tests.conftest import Client, base_config
from tests.factories import build_world
from tests.uploads.samples import jpeg


def phone_photo() -> bytes:
    """4000×3000 with noise (compresses like a real photo), camera EXIF."""
    image = Image.effect_noise((4000, 3000), 60).convert("RGB")
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def main() -> None:
    folder = tempfile.mkdtemp()
    app = create_app(base_config(f"sqlite:///{folder}/bench.db", UPLOAD_ROOT=f"{folder}/up"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        world = build_world()
        village = world.village_a1
        photo = phone_photo()
        timings = []
        with tenant_context(scope_for(village, writable=True)):
            for _ in range(5):
                start = time.perf_counter()
                stored = store_upload(
                    io.BytesIO(photo), PHOTO, association_id=village.id, uploaded_by_id=None
                )
                timings.append(time.perf_counter() - start)
            kept = stored.size
            db.session.commit()
        print(
            f"12 MP JPEG ({len(photo) / 1e6:.1f} MB) checked, re-encoded, thumbnailed: "
            f"median {statistics.median(timings) * 1000:.0f} ms, kept {kept / 1e6:.2f} MB"
        )

        small = jpeg()
        with tenant_context(scope_for(village, writable=True)):
            for number in range(500):
                activity = Activity(
                    held_on=date(2026, 1, 1) + timedelta(days=number % 300),
                    title=f"活动{number}",
                    type=ActivityType.PUBLICITY,
                    participant_count=10,
                )
                activity.photos = []
                activity.aid = []
                db.session.add(activity)
                db.session.flush()
                for _ in range(3):
                    stored = store_upload(
                        io.BytesIO(small), PHOTO, association_id=village.id, uploaded_by_id=None
                    )
                    db.session.add(ActivityPhoto(activity_id=activity.id, stored_file_id=stored.id))
            db.session.commit()
        client = Client(app.test_client())
        client.login(world.secretary_a1.login)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        timings = []
        for _ in range(20):
            statements.clear()
            start = time.perf_counter()
            response = client.get(f"/a/{village.slug}/activities/")
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200
        print(
            f"timeline, 500 activities × 3 photos, page of 20: median "
            f"{statistics.median(timings) * 1000:.0f} ms, {len(statements)} SQL statements"
        )


if __name__ == "__main__":
    main()
