"""Members inserted in bulk without their pinyin initials (the demo's sample villages, scripts)
still get them, so the register's pinyin search finds them."""

from datetime import date

from sqlalchemy import insert

from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import scope_for, tenant_context


def test_a_bulk_insert_without_initials_is_found_by_pinyin(world, make_client):
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.execute(
            insert(Member),
            [
                {
                    "association_id": world.village_a1.id,
                    "name": name,
                    "joined_on": date(2020, 1, 1),
                    "status": MemberStatus.ACTIVE,
                    "tags_text": "",
                }
                for name in ("王秀英", "李建国")
            ],
        )
        db.session.commit()
    page = make_client(world.secretary_a1.login).get("/a/village-a1/members/?q=wxy").text
    assert "王秀英" in page and "李建国" not in page
