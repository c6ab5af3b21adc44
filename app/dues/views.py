"""Dues pages: the year at a glance with the collection rate, the plan, one member's dues,
payments and voids, receipts, arrears (with .xlsx export), central-household collection and
the member's own dues page."""

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.core import audit
from app.core.clock import china_today
from app.core.forms import options
from app.core.money import parse_yuan, yuan_input, yuan_text
from app.core.pagination import paginate_rows
from app.core.problems import show_problems
from app.core.views import (
    can_read,
    can_read_registers,
    can_write,
    private_download,
    render,
    require,
)
from app.dues import central_collection, exporting, figures, payments, receipts, services
from app.dues.forms import (
    JOIN_RULE_LABELS,
    METHOD_LABELS,
    CollectionForm,
    ExemptionForm,
    GenerateForm,
    PaymentForm,
    PlanForm,
    VoidForm,
)
from app.dues.models import ChargeStatus, Exemption, JoinRule, PaymentMethod
from app.extensions import db
from app.members.models import Household, Member

has_own_role = require(lambda access: access.own_role is not None, "own role")
PER_PAGE = 50


def _status_labels() -> dict:
    # Built per request so the labels follow the user's language.
    return {
        ChargeStatus.OPEN: _("Open"),
        ChargeStatus.PARTLY_PAID: _("Partly paid"),
        ChargeStatus.PAID: _("Paid"),
        ChargeStatus.EXEMPT: _("Exempt"),
    }


def _year_arg() -> int:
    year = request.args.get("year", type=int)
    return year if year is not None and 2000 <= year <= 2100 else services.today().year


# --- the year at a glance --------------------------------------------------------------------


@can_read
def index():
    if not g.access.can_read_registers:
        return redirect(url_for("dues.my"), 303)
    year = _year_arg()
    return render(
        "dues/index.html",
        year=year,
        plan=services.plan_for(year),
        plans=services.plans(),
        figures=figures.collection_figures(year),
        generate_form=GenerateForm(year=year),
        join_rule_labels=JOIN_RULE_LABELS,
    )


def _plan_page(form, *, status=200, charges=0):
    return render("dues/plan.html", form=form, charges=charges, status=status)


@can_write
def plan():
    year = _year_arg() if request.method == "GET" else request.form.get("year", type=int)
    form = PlanForm()
    if request.method == "GET":
        existing = services.plan_for(year)
        values = (
            {
                "amount_fen": existing.amount_fen,
                "due_on": existing.due_on,
                "join_rule": existing.join_rule,
            }
            if existing
            else services.default_plan_values(year)
        )
        form.year.data = year
        form.amount.set_fen(values["amount_fen"])
        form.due_on.data = values["due_on"]
        form.join_rule.data = values["join_rule"].value
        return _plan_page(form, charges=services.charge_count(year))
    if not form.validate():
        return _plan_page(form, status=422)
    try:
        services.save_plan(
            year=form.year.data,
            amount_fen=form.amount.fen,
            due_on=form.due_on.data,
            join_rule=JoinRule(form.join_rule.data),
            created_by_id=current_user.id,
        )
    except services.DuesInvalid as invalid:
        show_problems(form, invalid)
        return _plan_page(form, status=422, charges=services.charge_count(form.year.data))
    flash(_("The dues plan for %(year)d is saved.", year=form.year.data), "success")
    return redirect(url_for("dues.index", year=form.year.data), 303)


@can_write
def generate():
    form = GenerateForm()
    year = form.year.data if form.validate() else None
    plan = services.plan_for(year) if year else None
    if plan is None:
        flash(_("Set the dues plan for the year first."), "error")
        return render(
            "dues/index.html",
            status=422,
            year=year or services.today().year,
            plan=None,
            plans=services.plans(),
            figures=figures.collection_figures(year or services.today().year),
            generate_form=form,
            join_rule_labels=JOIN_RULE_LABELS,
        )
    created = services.generate_charges(plan)
    if created:
        flash(_("%(n)d charges created for %(year)d.", n=created, year=year), "success")
    else:
        flash(_("Every active member already has a charge for %(year)d.", year=year), "success")
    return redirect(url_for("dues.index", year=year), 303)


# --- one member's dues -----------------------------------------------------------------------


def _load_member(member_id: int) -> Member:
    member = db.session.scalar(select(Member).where(Member.id == member_id))
    if member is None:
        abort(404)
    return member


def _member_page(member, *, payment_form=None, exemption_form=None, status=200):
    charges = services.charges_of(member.id)
    member_payments = payments.payments_of(member.id)
    open_charges = [c for c in charges if c.open_fen > 0]
    if payment_form is None:
        payment_form = PaymentForm(paid_on=services.today(), payer_name=member.name)
        if open_charges:
            payment_form.amount.set_fen(open_charges[-1].open_fen)
    payment_form.charge_id.choices = options(
        [
            (c.id, _("%(year)d (open %(open)s)", year=c.year, open=yuan_text(c.open_fen)))
            for c in sorted(open_charges, key=lambda c: c.year)
        ]
    )
    return render(
        "dues/member.html",
        status=status,
        member=member,
        charges=charges,
        payments=member_payments,
        allocations=payments.allocations_of([p.id for p in member_payments]),
        exemptions=services.exemptions_of(member.id),
        payment_form=payment_form,
        exemption_form=exemption_form or ExemptionForm(year=services.today().year),
        status_labels=_status_labels(),
        method_labels=METHOD_LABELS,
    )


@can_read_registers
def member(member_id: int):
    return _member_page(_load_member(member_id))


@can_write
def record_payment(member_id: int):
    member = _load_member(member_id)
    form = PaymentForm()
    charges = {c.id: c for c in services.charges_of(member.id)}
    form.charge_id.choices = options([(c_id, str(c_id)) for c_id in charges])
    if not form.validate():
        return _member_page(member, payment_form=form, status=422)
    try:
        payment = payments.record_offline_payment(
            charges[form.charge_id.data],
            payments.PaymentInput(
                paid_on=form.paid_on.data,
                amount_fen=form.amount.fen,
                method=PaymentMethod(form.method.data),
                payer_name=form.payer_name.data or "",
                note=form.note.data or "",
            ),
            recorded_by_id=current_user.id,
        )
    except services.DuesInvalid as invalid:
        show_problems(form, invalid)
        return _member_page(member, payment_form=form, status=422)
    flash(_("Payment recorded: receipt %(number)s.", number=payment.receipt_number), "success")
    return redirect(url_for("dues.member", member_id=member.id), 303)


@can_write
def add_exemption(member_id: int):
    member = _load_member(member_id)
    form = ExemptionForm()
    if not form.validate():
        return _member_page(member, exemption_form=form, status=422)
    try:
        services.exempt(
            member, year=form.year.data, reason=form.reason.data, created_by_id=current_user.id
        )
    except services.DuesInvalid as invalid:
        show_problems(form, invalid)
        return _member_page(member, exemption_form=form, status=422)
    flash(_("%(name)s is exempt for %(year)d.", name=member.name, year=form.year.data), "success")
    return redirect(url_for("dues.member", member_id=member.id), 303)


@can_write
def remove_exemption(exemption_id: int):
    exemption = db.session.scalar(select(Exemption).where(Exemption.id == exemption_id))
    if exemption is None:
        abort(404)
    member_id = exemption.member_id
    services.remove_exemption(exemption)
    flash(_("The exemption is removed."), "success")
    return redirect(url_for("dues.member", member_id=member_id), 303)


# --- payments, voids and receipts ------------------------------------------------------------


@can_read_registers
def payment_list():
    year = _year_arg()
    page = paginate_rows(
        payments.payments_query(year), page=request.args.get("page", 1, type=int), per_page=PER_PAGE
    )
    return render(
        "dues/payments.html",
        year=year,
        page=page,
        allocations=payments.allocations_of([payment.id for payment, _name in page.items]),
        method_labels=METHOD_LABELS,
    )


def _load_payment(payment_id: int):
    payment = payments.load_payment(payment_id)
    if payment is None:
        abort(404)
    return payment


def _void_page(payment, form, *, status=200):
    return render(
        "dues/void.html",
        status=status,
        payment=payment,
        form=form,
        member=db.session.get(Member, payment.member_id) if payment.member_id else None,
        method_labels=METHOD_LABELS,
    )


@can_write
def void(payment_id: int):
    payment = _load_payment(payment_id)
    form = VoidForm()
    if request.method == "GET":
        return _void_page(payment, form)
    if not form.validate():
        return _void_page(payment, form, status=422)
    try:
        payments.void_payment(payment, reason=form.reason.data, voided_by_id=current_user.id)
    except services.DuesInvalid as invalid:
        show_problems(form, invalid)
        return _void_page(payment, form, status=422)
    flash(_("Receipt %(number)s is void.", number=payment.receipt_number), "success")
    if payment.member_id:
        return redirect(url_for("dues.member", member_id=payment.member_id), 303)
    return redirect(url_for("dues.payments"), 303)


@can_read
def receipt(payment_id: int):
    """The secretary, staff and auditors get any receipt; a member only their own (others 404)."""
    payment = _load_payment(payment_id)
    if not g.access.can_read_registers:
        own = services.member_by_user(current_user.id)
        if own is None or payment.member_id != own.id:
            abort(404)
    member = db.session.get(Member, payment.member_id) if payment.member_id else None
    collected_via = None
    if payment.collected_via_household_id:
        household = db.session.get(Household, payment.collected_via_household_id)
        collected_via = household.address if household else None
        if payment.note:
            collected_via = f"{collected_via} ({payment.note})" if collected_via else payment.note
    body = receipts.receipt_pdf(
        payment,
        association_name=g.association.name,
        member_name=member.name if member else payment.payer_name,
        years=payments.allocations_of([payment.id]).get(payment.id, []),
        collected_via=collected_via,
    )
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="receipt-{payment.receipt_number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


# --- arrears ---------------------------------------------------------------------------------


def _central_filter() -> int | None:
    household_id = request.args.get("central", type=int)
    if household_id is None:
        return None
    if central_collection.load_central_household(household_id) is None:
        abort(404)
    return household_id


@can_read_registers
def arrears():
    year = _year_arg()
    central_id = _central_filter()
    page = paginate_rows(
        figures.arrears_query(year, central_household_id=central_id),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
    )
    return render(
        "dues/arrears.html",
        fragment="dues/_arrears_list.html",
        year=year,
        central_id=central_id,
        central_households=central_collection.central_households(),
        page=page,
        status_labels=_status_labels(),
    )


@can_read_registers
def arrears_export():
    year = _year_arg()
    central_id = _central_filter()
    rows = figures.arrears(year, central_household_id=central_id)
    data = exporting.arrears_workbook(year, rows, _status_labels())
    audit.record(
        "export",
        association_id=g.association.id,
        what="dues_arrears",
        format="xlsx",
        year=year,
        rows=len(rows),
    )
    filename = f"arrears-{g.association.slug}-{year}-{china_today():%Y%m%d}.xlsx"
    return private_download(data, filename)


# --- central households (中心户) ------------------------------------------------------------


@can_read_registers
def central():
    year = _year_arg()
    return render(
        "dues/central.html", year=year, rows=central_collection.central_household_figures(year)
    )


def _load_central(household_id: int) -> Household:
    household = central_collection.load_central_household(household_id)
    if household is None:
        abort(404)
    return household


def _collect_page(household, year, form, *, status=200, amounts=None):
    rows = central_collection.group_charges(household, year)
    if amounts is None:
        amounts = {charge.id: yuan_input(charge.open_fen) for charge, _m in rows if charge.open_fen}
    return render(
        "dues/collect.html",
        status=status,
        household=household,
        year=year,
        rows=rows,
        form=form,
        amounts=amounts,
        status_labels=_status_labels(),
    )


@can_read_registers
def central_detail(central_household_id: int):
    household = _load_central(central_household_id)
    year = _year_arg()
    form = CollectionForm(collected_on=services.today())
    return _collect_page(household, year, form)


@can_write
def collect(central_household_id: int):
    household = _load_central(central_household_id)
    year = request.form.get("year", type=int) or services.today().year
    form = CollectionForm()
    amounts = {
        int(key.removeprefix("amount-")): value
        for key, value in request.form.items()
        if key.startswith("amount-") and key.removeprefix("amount-").isdigit()
    }
    shares, bad = [], False
    for charge_id, text in amounts.items():
        if not (text or "").strip():
            continue
        try:
            fen = parse_yuan(text)
        except ValueError:
            bad = True
            continue
        shares.append(central_collection.CollectionShare(charge_id=charge_id, amount_fen=fen))
    if not form.validate() or bad:
        if bad:
            form.form_errors.append(_("Enter an amount in yuan, e.g. 30 or 12.50."))
        return _collect_page(household, year, form, status=422, amounts=amounts)
    try:
        _batch, recorded = central_collection.record_collection(
            household,
            year=year,
            collected_on=form.collected_on.data,
            collector_name=form.collector_name.data,
            method=PaymentMethod(form.method.data),
            shares=shares,
            recorded_by_id=current_user.id,
        )
    except services.DuesInvalid as invalid:
        show_problems(form, invalid)
        return _collect_page(household, year, form, status=422, amounts=amounts)
    flash(
        _(
            "%(n)d payments recorded, receipts %(first)s to %(last)s.",
            n=len(recorded),
            first=recorded[0].receipt_number,
            last=recorded[-1].receipt_number,
        ),
        "success",
    )
    return redirect(
        url_for("dues.central_detail", central_household_id=household.id, year=year), 303
    )


# --- the member's own page -------------------------------------------------------------------


@has_own_role
def my():
    member = services.member_by_user(current_user.id)
    charges = services.charges_of(member.id) if member else []
    member_payments = payments.payments_of(member.id) if member else []
    return render(
        "dues/my.html",
        member=member,
        charges=charges,
        payments=member_payments,
        allocations=payments.allocations_of([p.id for p in member_payments]),
        settings=services.current_settings(),
        plans={p.year: p for p in services.plans()},
        status_labels=_status_labels(),
        method_labels=METHOD_LABELS,
    )
