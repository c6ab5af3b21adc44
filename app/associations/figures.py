"""The population each association serves, as a figure group of the dashboards
(app/dashboards/figures.py): the record in force in the year (app/associations/settings.py).
Registered from here (app/registry.py): the dashboards cannot import this package, whose home
page reads them.
"""

from datetime import date

from app.associations.models import PopulationRecord
from app.associations.settings import populations_in_force
from app.dashboards.figures import FigureGroup, Rows, register_group


def population(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """The population in force in `year`."""
    found = populations_in_force(year, association_ids)
    return {association_id: {"population": value} for association_id, value in found.items()}


register_group(FigureGroup("population", ("population",), population, (PopulationRecord,)))
