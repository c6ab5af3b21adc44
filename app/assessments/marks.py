"""The model associations (示范协会) as a mark in the dashboards' pages and exports
(app/dashboards/marks.py), registered on import by app/registry.py."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assessments.models import ModelAssociation
from app.dashboards import marks
from app.extensions import db
from tenants.models import Association


@marks.register("model", _l("Model association (示范协会)"), "★")
def model_associations(year: int) -> dict[int, str]:
    """{association id: path} of the year's model associations the current scope reads."""
    return dict(
        db.session.execute(
            select(ModelAssociation.association_id, Association.path)
            .join(Association, Association.id == ModelAssociation.association_id)
            .where(ModelAssociation.year == year)
        ).all()
    )
