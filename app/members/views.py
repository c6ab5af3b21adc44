"""Handlers of the member and household pages: load → authorise → call a service → render."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.core.forms import options
from app.core.problems import show_problems
from app.core.spreadsheets import SpreadsheetError, chosen_layout
from app.core.views import (
    can_read_registers,
    can_write,
    private_download,
    render,
    require,
    secretary_only,
)
from app.extensions import db, htmx
from app.members import exporting, households, importing, moves, search, services
from app.members.forms import (
    ContactForm,
    HouseholdForm,
    ImportUploadForm,
    LinkForm,
    MemberForm,
    MoveRequestForm,
    SettingsForm,
    VisitForm,
)
from app.members.labels import FIELD_LABELS
from app.members.models import BACKBONE_TAGS, ImportStatus, MemberImport, MemberStatus
from tenants.models import Membership

PER_PAGE = 30
has_own_role = require(lambda access: access.own_role is not None, "own role")


def _member_or_404(member_id: int):
    member = services.load_member(member_id)
    if member is None:
        abort(404)
    return member


def _household_or_404(household_id: int):
    household = households.load_household(household_id)
    if household is None:
        abort(404)
    return household


def _page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


# ---- members --------------------------------------------------------------------------------


@can_read_registers
def index():
    filters = search.MemberFilters(
        query=request.args.get("q", "")[:60],
        status=request.args.get("status", ""),
        tag=request.args.get("tag", "")[:30],
    )
    per_page = min(max(request.args.get("per_page", PER_PAGE, type=int) or PER_PAGE, 5), 200)
    page = search.member_page(filters, page=_page_number(), per_page=per_page)
    phones = {}
    if not g.access.is_auditing:
        phones = {row[0].id: services.phone_of(row[0]) for row in page.items}
    return render(
        "members/index.html",
        fragment="members/_list.html",
        page=page,
        filters=filters,
        phones=phones,
        tags=search.tags_in_use(),
        statuses=list(MemberStatus),
        counts=services.register_counts(active_members=page.active_members),
        pending_moves=moves.pending_count() if g.access.can_write else 0,
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


# ---- import ---------------------------------------------------------------------------------


def _import_or_404(import_id: int) -> MemberImport:
    member_import = db.session.scalar(select(MemberImport).where(MemberImport.id == import_id))
    if member_import is None:
        abort(404)
    return member_import


@can_write
def import_upload():
    form = ImportUploadForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _upload_page(form, status=422)
        upload = form.file.data
        stored = importing.save_upload(upload.stream)
        try:
            member_import = importing.begin_import(
                filename=upload.filename or "", stored_name=stored, created_by_id=current_user.id
            )
        except SpreadsheetError as error:
            form.file.errors = [error.message]
            return _upload_page(form, status=422)
        return redirect(url_for("members.import_show", import_id=member_import.id), 303)
    return _upload_page(form)


def _upload_page(form, status: int = 200):
    return render(
        "members/import_upload.html",
        form=form,
        imports=importing.recent_imports(),
        field_labels=FIELD_LABELS,
        aliases=importing.ALIASES,
        status=status,
    )


@can_write
def import_show(import_id: int):
    member_import = _import_or_404(import_id)
    return _import_page(member_import)


def _import_page(member_import: MemberImport, *, status: int = 200, errors=(), notice=None):
    problems = []
    mismatches = 0
    if member_import.status == ImportStatus.VALIDATED:
        problems = importing.problem_rows(member_import)
        mismatches = importing.gender_mismatches(member_import)
    return render(
        "members/import.html",
        fragment="members/_import_status.html",
        member_import=member_import,
        problems=problems,
        row_values=importing.row_values,
        gender_mismatches=mismatches,
        skipped=importing.skipped_rows(member_import),
        can_retry=importing.can_retry(member_import),
        field_labels=FIELD_LABELS,
        problem_message=importing.problem_message,
        column_label=importing.column_label,
        errors=errors,
        notice=notice,
        status=status,
    )


def _start(member_import: MemberImport, step: str):
    importing.mark_step_started(member_import, step)
    # The job reads the import row from another transaction: commit before handing off.
    db.session.commit()
    importing.start_step(member_import, step, current_user.id)
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


def _after_fix(member_import: MemberImport, notice: str | None = None):
    """A fix was re-checked at once: htmx gets the refreshed report, a plain form the page."""
    db.session.commit()
    if htmx:
        return _import_page(member_import, notice=notice)
    if notice:
        flash(notice, "success")
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


@can_write
def import_layout(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.MAPPING or not member_import.stored_name:
        abort(409)
    sheet, heading_row = chosen_layout(
        request.form, current_sheet=(member_import.layout or {}).get("sheet")
    )
    try:
        importing.set_layout(member_import, sheet=sheet, heading_row=heading_row)
    except SpreadsheetError as error:
        db.session.rollback()
        return _import_page(member_import, status=422, errors=[error.message])
    db.session.commit()
    return _import_page(member_import) if htmx else _redirect_to(member_import)


def _redirect_to(member_import: MemberImport):
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


@can_write
def import_mapping(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.MAPPING:
        abort(409)
    mapping = {
        str(index): request.form.get(f"column_{index}", "")
        for index in range(len(member_import.headers))
    }
    mapping = {index: name for index, name in mapping.items() if name in FIELD_LABELS}
    layout = member_import.layout or {}
    if not layout.get("sheet_chosen", True):
        member_import.mapping = mapping
        return _import_page(
            member_import,
            status=422,
            errors=[_("Choose the sheet that holds the members first.")],
        )
    try:
        importing.check_mapping(mapping)
    except services.RegisterError as error:
        member_import.mapping = mapping
        return _import_page(member_import, status=422, errors=[error.message])
    importing.set_mapping(member_import, mapping)
    return _start(member_import, "validate")


@can_write
def import_row(import_id: int, row_number: int):
    member_import = _import_or_404(import_id)
    row = importing.staged_row(member_import, row_number)
    if row is None or member_import.status != ImportStatus.VALIDATED:
        abort(404)
    columns = [name for name in FIELD_LABELS if name in member_import.mapping.values()]
    if request.method == "POST":
        if request.form.get("action") == "skip":
            importing.skip_row(member_import, row)
            return _after_fix(member_import, _("Row %(row)d is left out.", row=row_number))
        values = {name: request.form.get(name, "")[:200] for name in columns}
        importing.fix_row(member_import, row, values)
        notice = (
            _("Row %(row)d is ready to import.", row=row_number)
            if row.valid
            else _("Row %(row)d still has a problem.", row=row_number)
        )
        return _after_fix(member_import, notice)
    return render(
        "members/import_row.html",
        fragment="members/_import_row_form.html",
        member_import=member_import,
        row=row,
        values=importing.row_values(row),
        columns=columns,
        register_choices=importing.register_central_choices(row),
        field_labels=FIELD_LABELS,
        problem_message=importing.problem_message,
    )


@can_write
def import_fix_genders(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    changed = importing.take_gender_from_id_numbers(member_import)
    return _after_fix(
        member_import,
        ngettext(
            "%(num)d row took the gender from its ID number.",
            "%(num)d rows took the gender from their ID numbers.",
            changed,
        ),
    )


@can_write
def import_skip_problems(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    skipped = importing.skip_rows_with_problems(member_import)
    return _after_fix(
        member_import,
        ngettext(
            "%(num)d row with problems is left out.",
            "%(num)d rows with problems are left out.",
            skipped,
        ),
    )


@can_write
def import_problems(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    data = importing.problem_workbook(member_import)
    db.session.commit()
    return private_download(data, f"import-{member_import.id}-rows-to-correct.xlsx")


@can_write
def import_confirm(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    return _start(member_import, "apply")


@can_write
def import_retry(import_id: int):
    member_import = _import_or_404(import_id)
    if not importing.can_retry(member_import):
        abort(409)
    return _start(member_import, member_import.failed_step)


@can_write
def import_cancel(import_id: int):
    member_import = _import_or_404(import_id)
    if importing.cancel(member_import):
        flash(_("The import was cancelled; nothing was imported."), "success")
        return redirect(url_for("members.import_upload"), 303)
    if member_import.status == ImportStatus.DONE:
        flash(_("Too late to cancel: the import had just finished."), "error")
    return _redirect_to(member_import)


# ---- households -----------------------------------------------------------------------------


@can_read_registers
def household_list():
    filters = households.HouseholdFilters(
        view=request.args.get("view", "all"), query=request.args.get("q", "")[:60]
    )
    return render(
        "members/households.html",
        fragment="members/_households.html",
        page=households.household_page(filters, page=_page_number(), per_page=PER_PAGE),
        filters=filters,
        limit=households.linkage_limit(),
        counts=services.register_counts(),
    )


def _household_input(form: HouseholdForm) -> households.HouseholdInput:
    return households.HouseholdInput(
        address=form.address.data,
        grid=form.grid.data,
        building=form.building.data,
        unit=form.unit.data,
    )


@can_write
def household_new():
    form = HouseholdForm()
    if request.method == "GET":
        return render("members/household_form.html", form=form, household=None)
    if not form.validate_on_submit():
        return render("members/household_form.html", form=form, household=None, status=422)
    household = households.create_household(_household_input(form))
    flash(_("The household has been added."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_edit(household_id: int):
    household = _household_or_404(household_id)
    if request.method == "GET":
        form = HouseholdForm(obj=household)
        return render("members/household_form.html", form=form, household=household)
    form = HouseholdForm()
    if not form.validate_on_submit():
        return render("members/household_form.html", form=form, household=household, status=422)
    households.update_household(household, _household_input(form))
    flash(_("The changes have been saved."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


def _household_page(household, *, link_form=None, visit_form=None, status: int = 200):
    central = (
        households.load_household(household.central_household_id)
        if household.central_household_id
        else None
    )
    linked = households.linked_households(household.id) if household.is_central else []
    link_form = link_form or LinkForm(formdata=None)
    link_form.central_household_id.choices = options(
        [
            (other.id, f"{other.address} ({count}/{households.linkage_limit()})")
            for other, count in households.central_households()
            if other.id != household.id
        ]
    )
    visit_form = visit_form or VisitForm(formdata=None, visited_on=china_today())
    visit_form.households.choices = options([(other.id, other.address) for other in linked])
    visits = households.visits_of(household.id) if household.is_central else []
    visited = households.households_by_id(
        household_id for visit in visits for household_id in visit.visited_household_ids
    )
    return render(
        "members/household.html",
        household=household,
        central=central,
        members=households.household_members(household.id),
        linked=linked,
        limit=households.linkage_limit(),
        link_form=link_form,
        visit_form=visit_form,
        visits=visits,
        visited=visited,
        status=status,
    )


@can_read_registers
def household_show(household_id: int):
    return _household_page(_household_or_404(household_id))


@can_write
def household_central(household_id: int):
    household = _household_or_404(household_id)
    try:
        if household.is_central:
            households.unmark_central(household)
            flash(_("It is no longer a central household."), "success")
        else:
            households.mark_central(household)
            flash(_("It is now a central household."), "success")
    except services.RegisterError as error:
        flash(str(error.message), "error")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_link(household_id: int):
    household = _household_or_404(household_id)
    form = LinkForm()
    if not form.validate_on_submit() or not form.central_household_id.data:
        if not form.central_household_id.errors:
            form.central_household_id.errors = [_("Choose a central household.")]
        return _household_page(household, link_form=form, status=422)
    central = households.load_household(form.central_household_id.data)
    try:
        if central is None:
            raise services.RegisterError(
                _("Choose a central household of this association."), "central_household_id"
            )
        households.link_household(household, central)
    except services.RegisterError as error:
        show_problems(form, error)
        return _household_page(household, link_form=form, status=422)
    flash(_("Linked to %(address)s.", address=central.address), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_unlink(household_id: int):
    household = _household_or_404(household_id)
    households.unlink_household(household)
    flash(_("The household is no longer linked to a central household."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_visit(household_id: int):
    household = _household_or_404(household_id)
    form = VisitForm()
    form.households.choices = options(
        [(h.id, h.address) for h in households.linked_households(household.id)]
    )
    if not form.validate_on_submit():
        return _household_page(household, visit_form=form, status=422)
    try:
        households.record_visit(
            household,
            visited_on=form.visited_on.data,
            household_ids=form.households.data or [],
            notes=form.notes.data or "",
            recorded_by_id=current_user.id,
        )
    except services.RegisterError as error:
        show_problems(form, error)
        return _household_page(household, visit_form=form, status=422)
    flash(_("The visit has been logged."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@secretary_only
def household_delete(household_id: int):
    household = _household_or_404(household_id)
    try:
        households.delete_household(household)
    except services.RegisterError as error:
        flash(str(error.message), "error")
        return redirect(url_for("households.show", household_id=household.id), 303)
    flash(
        _("The household has been deleted. You can restore it from Recently deleted for 30 days."),
        "success",
    )
    return redirect(url_for("households.index"), 303)


@secretary_only
def household_restore(household_id: int):
    household = households.load_deleted_household(household_id)
    if household is None:
        abort(404)
    households.restore_household(household)
    flash(_("The household %(address)s is back.", address=household.address), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@secretary_only
def settings():
    form = SettingsForm()
    if request.method == "GET":
        form.limit.data = households.linkage_limit()
        return render("members/settings.html", form=form)
    if not form.validate_on_submit():
        return render("members/settings.html", form=form, status=422)
    households.set_linkage_limit(form.limit.data)
    flash(_("The settings have been saved."), "success")
    return redirect(url_for("households.index"), 303)
