"""Handlers of the member register's pages: the list with its search, adding and editing a
member, deleting and restoring, the export and the member's own details. The import pages are
in import_views.py, the households' in household_views.py."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.core.forms import options
from app.core.problems import show_problems
from app.core.urls import url_maker
from app.core.views import (
    can_read_registers,
    can_write,
    private_download,
    render,
    require,
    secretary_only,
)
from app.extensions import db
from app.members import exporting, households, moves, register_figures, search, services
from app.members.forms import ContactForm, MemberForm, MoveRequestForm
from app.members.models import BACKBONE_TAGS, MemberStatus
from tenants.models import Membership

PER_PAGE = 30
has_own_role = require(lambda access: access.own_role is not None, "own role")


def _member_or_404(member_id: int):
    member = services.load_member(member_id)
    if member is None:
        abort(404)
    return member


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@can_read_registers
def index():
    filters = search.MemberFilters(
        query=request.args.get("q", "")[:60],
        status=request.args.get("status", ""),
        tag=request.args.get("tag", "")[:30],
    )
    per_page = min(max(request.args.get("per_page", PER_PAGE, type=int) or PER_PAGE, 5), 200)
    figures = register_figures.figures_of(g.association)
    page = search.member_page(
        filters,
        page=page_number(),
        per_page=per_page,
        register=(figures.members, figures.active_members),
    )
    phones = {}
    if not g.access.is_auditing:
        phones = {row[0].id: services.phone_of(row[0]) for row in page.items}
    return render(
        "members/index.html",
        fragment="members/_list.html",
        page=page,
        filters=filters,
        phones=phones,
        tags=figures.tags,
        statuses=list(MemberStatus),
        counts={
            "members": page.active_members,
            "households": figures.households,
            "central_households": figures.central_households,
            "linked_households": figures.linked_households,
        },
        pending_moves=figures.pending_moves if g.access.can_write else 0,
        member_url=url_maker("members.show", "member_id"),
    )


def _member_form_choices(form: MemberForm) -> None:
    form.household_id.choices = options([(0, _("No household"))] + households.household_choices())
    accounts = db.session.execute(
        select(User.id, User.name, User.login)
        .join(Membership, Membership.user_id == User.id)
        .order_by(User.name)
    ).all()
    form.user_id.choices = options(
        [(0, _("No account"))] + [(row.id, f"{row.name} ({row.login})") for row in accounts]
    )


def _member_input(form: MemberForm) -> services.MemberInput:
    return services.MemberInput(
        name=form.name.data,
        gender=form.gender.data or None,
        phone=form.phone.data,
        id_number=form.id_number.data,
        household_id=form.household_id.data,
        joined_on=form.joined_on.data,
        status=MemberStatus(form.status.data),
        status_on=form.status_on.data,
        tags=form.tags(),
        user_id=form.user_id.data,
    )


def _form_page(form: MemberForm, member=None, status: int = 200):
    _member_form_choices(form)
    return render("members/form.html", form=form, member=member, status=status)


@can_write
def new():
    form = MemberForm()
    if request.method == "GET":
        form.household_id.data = request.args.get("household_id", type=int)
        return _form_page(form)
    _member_form_choices(form)
    if not form.validate_on_submit():
        return _form_page(form, status=422)
    try:
        member = services.create_member(_member_input(form))
    except services.RegisterError as error:
        show_problems(form, error)
        return _form_page(form, status=422)
    flash(_("%(name)s has been added.", name=member.name), "success")
    return redirect(url_for("members.show", member_id=member.id), 303)


@can_read_registers
def show(member_id: int):
    member = _member_or_404(member_id)
    if g.access.is_auditing:
        services.record_person_view(member)
    household = households.load_household(member.household_id) if member.household_id else None
    central = (
        households.load_household(household.central_household_id)
        if household is not None and household.central_household_id
        else None
    )
    phone = member.phone_masked if g.access.is_auditing else services.phone_of(member)
    return render(
        "members/show.html",
        member=member,
        household=household,
        central=central,
        phone=phone,
        user=db.session.get(User, member.user_id) if member.user_id else None,
        open_move=moves.open_move_of(member) if g.access.can_write else None,
    )


@can_write
def edit(member_id: int):
    member = _member_or_404(member_id)
    if request.method == "GET":
        form = MemberForm(obj=member)
        form.phone.data = services.phone_of(member)
        form.id_number.data = services.id_number_of(member)
        form.gender.data = member.gender.value if member.gender else ""
        form.status.data = member.status.value
        form.backbone.data = [tag for tag in member.tags if tag in BACKBONE_TAGS]
        form.other_tags.data = ", ".join(tag for tag in member.tags if tag not in BACKBONE_TAGS)
        return _form_page(form, member)
    form = MemberForm()
    _member_form_choices(form)
    if not form.validate_on_submit():
        return _form_page(form, member, status=422)
    try:
        services.update_member(member, _member_input(form))
    except services.RegisterError as error:
        show_problems(form, error)
        return _form_page(form, member, status=422)
    flash(_("The changes have been saved."), "success")
    return redirect(url_for("members.show", member_id=member.id), 303)


@secretary_only
def reveal(member_id: int):
    member = _member_or_404(member_id)
    return render(
        "members/_id_number.html",
        fragment="members/_id_number.html",
        member=member,
        revealed=services.reveal_id_number(member),
    )


@secretary_only
def delete(member_id: int):
    member = _member_or_404(member_id)
    name = member.name
    services.delete_member(member)
    flash(
        _(
            "%(name)s has been deleted from the register. You can restore the record from "
            "Recently deleted for 30 days.",
            name=name,
        ),
        "success",
    )
    return redirect(url_for("members.index"), 303)


@secretary_only
def recently_deleted():
    members, households = services.recently_deleted()
    return render("members/recently_deleted.html", members=members, households=households)


@secretary_only
def restore(member_id: int):
    member = services.load_deleted_member(member_id)
    if member is None:
        abort(404)
    try:
        services.restore_member(member)
    except services.RegisterError as error:
        flash(str(error.message), "error")
        return redirect(url_for("members.recently_deleted"), 303)
    flash(_("%(name)s is back in the register.", name=member.name), "success")
    return redirect(url_for("members.show", member_id=member.id), 303)


@can_read_registers
def export():
    file_format = "csv" if request.args.get("format") == "csv" else "xlsx"
    reveal_ids = request.args.get("reveal") == "1" and g.access.is_secretary
    data = exporting.export_members(
        g.association.id,
        file_format=file_format,
        reveal_id_numbers=reveal_ids,
        reveal_phones=not g.access.is_auditing,
        sheet_title=g.association.name,
    )
    filename = f"members-{g.association.slug}-{china_today():%Y%m%d}.{file_format}"
    if file_format == "csv":
        return private_download(data, filename, "text/csv; charset=utf-8")
    return private_download(data, filename)


@has_own_role
def me():
    """My details: my phone to correct, my household to ask to move from (not to choose)."""
    member = services.member_of_user(current_user.id)
    form = ContactForm()
    if member is None:
        if request.method == "POST":
            abort(404)
        return render("members/me.html", member=None, form=form)
    if request.method == "GET":
        form.phone.data = services.phone_of(member)
        return my_details_page(member, form)
    if "household_id" in request.form:
        form.form_errors.append(
            _("Your household is changed by the secretary: ask to move household below.")
        )
        return my_details_page(member, form, status=422)
    if not form.validate_on_submit():
        return my_details_page(member, form, status=422)
    try:
        services.update_contact_details(member, phone=form.phone.data)
    except services.RegisterError as error:
        show_problems(form, error)
        return my_details_page(member, form, status=422)
    flash(_("Your details have been saved."), "success")
    return redirect(url_for("members.me"), 303)


def my_details_page(member, form=None, move_form=None, *, status: int = 200):
    if form is None:
        form = ContactForm(formdata=None)
        form.phone.data = services.phone_of(member)
    return render(
        "members/me.html",
        member=member,
        form=form,
        household=households.load_household(member.household_id) if member.household_id else None,
        move_form=move_form or MoveRequestForm(formdata=None),
        open_move=moves.open_move_of(member),
        moves=moves.moves_of_member(member),
        status=status,
    )
