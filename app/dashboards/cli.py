"""`flask dashboards refresh`: recompute the figures table from the raw tables."""

import click
from flask.cli import AppGroup

from app.dashboards.refresh import refresh_figures, years_to_refresh
from app.extensions import db

dashboards_cli = AppGroup("dashboards", help="Dashboard figures.")


@dashboards_cli.command("refresh")
@click.option("--year", "years", type=int, multiple=True, help="Year(s); default: all held.")
def refresh_command(years: tuple[int, ...]) -> None:
    """Recompute every association's figures for the years (all years held and this one)."""
    for year in years or years_to_refresh():
        written = refresh_figures(year)
        db.session.commit()
        click.echo(f"{year}: {written} associations.")
