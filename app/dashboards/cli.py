"""`flask dashboards refresh`: recompute the figures table from the raw tables;
`flask dashboards close`: freeze the figures of ended quarters."""

import time

import click
from flask.cli import AppGroup

from app.core.clock import china_today
from app.dashboards.periods import close_period, periods_to_close
from app.dashboards.refresh import refresh_figures, years_to_refresh
from app.extensions import db

dashboards_cli = AppGroup("dashboards", help="Dashboard figures.")


@dashboards_cli.command("close")
@click.option("--year", type=int, help="With --quarter: one period; default: every ended one.")
@click.option("--quarter", type=click.IntRange(1, 4))
def close_command(year: int | None, quarter: int | None) -> None:
    """Freeze the figures of ended quarters (Q4 closes the year) as of their last day."""
    wanted = [(year, quarter)] if year and quarter else periods_to_close(china_today())
    for period_year, period_quarter in wanted:
        started = time.monotonic()
        written = close_period(period_year, period_quarter)
        db.session.commit()
        seconds = time.monotonic() - started
        click.echo(f"{period_year} Q{period_quarter}: {written} associations, {seconds:.1f} s.")


@dashboards_cli.command("refresh")
@click.option("--year", "years", type=int, multiple=True, help="Year(s); default: all held.")
def refresh_command(years: tuple[int, ...]) -> None:
    """Recompute every association's figures for the years (all years held and this one)."""
    for year in years or years_to_refresh():
        written = refresh_figures(year)
        db.session.commit()
        click.echo(f"{year}: {written} associations.")
