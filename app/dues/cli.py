"""`flask dues …`: dues commands run by operators (reconciliation with Stripe)."""

from datetime import date

import click
from flask.cli import AppGroup
from stripe import StripeError

from app.core.dates import is_sensible_date
from app.core.money import yuan_text
from app.dues.reconcile import MISSING_LOCALLY, reconcile, repair_missing
from app.dues.stripe_connect import stripe_configured

dues_cli = AppGroup("dues", help="Dues: reconciliation with Stripe.")


def _money(fen: int | None) -> str:
    return "—" if fen is None else yuan_text(fen)


@dues_cli.command("reconcile")
@click.option(
    "--date",
    "day",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day (China time), YYYY-MM-DD.",
)
@click.option("--association", "slug", default=None, help="Only this association (its slug).")
@click.option(
    "--repair",
    is_flag=True,
    help="Record payments Stripe has and we lack, through the webhook processing.",
)
def reconcile_command(day, slug: str | None, repair: bool) -> None:
    """Compare the day's Stripe payments of each connected account with the local ones.

    Exit code 0: no differences; 1: differences (listed); 2: Stripe could not be asked.
    """
    the_day: date = day.date()
    if not is_sensible_date(the_day):
        raise click.BadParameter(
            "give a day from 1900-01-01 to one year after today (China time)", param_hint="--date"
        )
    if not stripe_configured():
        raise click.ClickException("STRIPE_SECRET_KEY is not set.")
    try:
        accounts, differences = reconcile(the_day, slug)
    except StripeError as error:
        click.echo(f"Stripe could not be asked: {error.user_message or error}", err=True)
        raise SystemExit(2) from error
    if slug and not accounts:
        raise click.ClickException(f"No association {slug!r} with a connected Stripe account.")
    remaining = 0
    for difference in differences:
        line = (
            f"{difference.association}\t{difference.kind}\t{difference.payment_intent}\t"
            f"Stripe {_money(difference.stripe_fen)}\tlocal {_money(difference.local_fen)}"
        )
        if difference.receipt_number:
            line += f"\treceipt {difference.receipt_number}"
        if repair and difference.kind == MISSING_LOCALLY:
            line += "\trepaired" if repair_missing(difference) else "\tNOT repaired"
            remaining += "NOT repaired" in line
        else:
            remaining += 1
        click.echo(line)
    click.echo(
        f"{the_day.isoformat()}: {accounts} connected account(s), {len(differences)} difference(s)."
    )
    if remaining:
        raise SystemExit(1)
