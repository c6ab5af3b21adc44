"""Setting up the tree from above: a secretary creates the associations below theirs and
invites each one's first secretary.

Writing into a child is deliberate: the request runs in the parent's scope, so every write to a
child's tenant rows goes through `writing_into(child, actor)`, which first checks that the actor
is secretary of an association above the child, then opens an explicit writable scope for that
one child. The general write guard is never widened.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import Invitation, User
from app.associations.models import PopulationRecord
from app.core.audit import record
from app.core.clock import china_today
from app.core.pagination import Page, paginate_rows
from app.core.problems import Problem
from app.extensions import db
from tenants import tree
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind, Membership, Role

MAX_POPULATION = 200_000_000


class OnboardingError(Problem):
    """A refused set-up action; the message is translated and shown to the user."""


@dataclass(frozen=True)
class Operator:
    """The platform operator acting from the console or the command line (no user row)."""

    id: None = None
    name: str = "platform operator"


OPERATOR = Operator()
Actor = User | Operator


def secretary_at_or_above(actor: Actor, association: Association) -> bool:
    """Is the actor secretary of this association or of one above it?"""
    if isinstance(actor, Operator):
        return True
    with UNSCOPED_BYPASS("the acting user's own secretary roles on the path to the root"):
        held = db.session.scalar(
            select(Membership.id)
            .where(
                Membership.user_id == actor.id,
                Membership.role == Role.SECRETARY,
                Membership.association_id.in_(association.ancestor_ids),
            )
            .limit(1)
        )
    return held is not None


def ensure_may_set_up_below(actor: Actor, parent: Association) -> None:
    if not secretary_at_or_above(actor, parent):
        raise OnboardingError(
            _(
                "Only a secretary of %(name)s or of an association above it may do this.",
                name=parent.name,
            )
        )
    if parent.suspended_at is not None:
        raise OnboardingError(_("%(name)s is suspended: nothing can be changed.", name=parent.name))


@contextmanager
def writing_into(child: Association, actor: Actor) -> Iterator[None]:
    """An explicit writable scope for one child, for an actor who is secretary above it.

    Everything written inside is flushed before the scope closes, so the write guard checks it
    against the child's scope and no other."""
    if child.parent_id is None or not secretary_at_or_above(actor, _parent_of(child)):
        raise OnboardingError(
            _("Only a secretary of an association above %(name)s may do this.", name=child.name)
        )
    with tenant_context(scope_for(child, writable=True)):
        yield
        db.session.flush()


def _parent_of(child: Association) -> Association:
    return db.session.get(Association, child.parent_id)


@dataclass
class ChildSpec:
    """What a secretary says about a new child association (from the form or a spreadsheet)."""

    name: str
    kind: AssociationKind | None
    division_code: str | None
    served_population: int | None
    secretary_name: str | None = None
    secretary_login: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = (self.name or "").strip()
        self.division_code = (self.division_code or "").strip() or None
        self.secretary_name = (self.secretary_name or "").strip() or None
        login = accounts.normalise_login(self.secretary_login or "")
        self.secretary_login = login or None


@dataclass
class Siblings:
    """Names and division codes already used under one parent (to refuse duplicates)."""

    names: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)


def siblings_of(parent_ids: list[int]) -> dict[int, Siblings]:
    """One query for the names and codes of every child of the given parents."""
    found: dict[int, Siblings] = {parent_id: Siblings() for parent_id in parent_ids}
    rows = db.session.execute(
        select(Association.parent_id, Association.name, Association.division_code).where(
            Association.parent_id.in_(parent_ids)
        )
    )
    for parent_id, name, code in rows:
        found[parent_id].names.add(name)
        if code:
            found[parent_id].codes.add(code)
    return found


def check_child(parent: Association, spec: ChildSpec, siblings: Siblings) -> None:
    """Validate a child against its parent and its siblings; fills `spec.errors` by field and
    settles `spec.kind` from the division code where the code designates a level."""
    errors = spec.errors
    if not spec.name:
        errors["name"] = _("Enter a name.")
    elif len(spec.name) > 120:
        errors["name"] = _("A name has at most 120 characters.")
    elif spec.name in siblings.names:
        errors["name"] = _(
            "%(parent)s already has an association named %(name)s.",
            parent=parent.name,
            name=spec.name,
        )
    code = spec.division_code
    code_is_well_formed = bool(code and tree.DIVISION_CODE.match(code))
    if code and not code_is_well_formed:
        errors["division_code"] = _("A division code has exactly 12 digits.")
    if spec.kind is None:
        if code_is_well_formed:
            spec.kind = tree.kind_for_division_code(code)
            if spec.kind is None:
                errors["kind"] = _(
                    "A village-level code fits a community, a village, an enterprise or a "
                    "migrant association: choose the kind."
                )
        elif not code:
            errors["kind"] = _("Choose the kind, or give a division code to derive it from.")
    if spec.kind is not None:
        problem = tree.check_parent_kind(spec.kind, parent)
        if problem:
            errors["kind"] = problem
        if code_is_well_formed:
            problem = tree.check_division_code(code, spec.kind, parent)
            if problem:
                errors["division_code"] = problem
            elif code in siblings.codes:
                errors["division_code"] = _(
                    "Another association under %(parent)s already has this division code.",
                    parent=parent.name,
                )
    population = spec.served_population
    if population is None:
        errors["served_population"] = _("Enter the population served.")
    elif population <= 0 or population > MAX_POPULATION:
        errors["served_population"] = _("Enter a population above zero.")
    if bool(spec.secretary_name) != bool(spec.secretary_login):
        errors["secretary_login"] = _(
            "Give both the secretary's name and their mobile number or email."
        )
    elif spec.secretary_login and not accounts.is_valid_login(spec.secretary_login):
        errors["secretary_login"] = _("Enter an email address or an 11-digit mobile number.")
    elif spec.secretary_name and len(spec.secretary_name) > 60:
        errors["secretary_login"] = _("A name has at most 60 characters.")


def free_slugs(specs: list[ChildSpec]) -> list[str]:
    """A web address name per new association: its division code where that is free, else the
    kind and a random suffix. One query for all of them."""
    wanted = [spec.division_code for spec in specs if spec.division_code]
    taken = set()
    if wanted:
        taken = set(
            db.session.scalars(select(Association.slug).where(Association.slug.in_(wanted)))
        )
    slugs = []
    for spec in specs:
        code = spec.division_code
        free = code and code not in taken
        slug = code if free else f"{spec.kind.value}-{secrets.token_hex(4)}"
        taken.add(slug)
        slugs.append(slug)
    return slugs


def create_child(parent: Association, spec: ChildSpec, actor: Actor, *, slug: str | None = None):
    """Create a checked child association with its population record. The caller has run
    `check_child` and found no errors."""
    ensure_may_set_up_below(actor, parent)
    if spec.errors:
        raise OnboardingError(next(iter(spec.errors.values())))
    child = tree.create_association(
        name=spec.name,
        slug=slug or free_slugs([spec])[0],
        kind=spec.kind,
        parent=parent,
        division_code=spec.division_code,
        served_population=spec.served_population,
    )
    with writing_into(child, actor):
        db.session.add(
            PopulationRecord(
                association_id=child.id,
                from_year=china_today().year,
                population=spec.served_population,
                recorded_by_id=actor.id,
            )
        )
    record("create_association", association_id=parent.id, target=child, name=child.name)
    return child


def invite_first_secretary(
    child: Association, actor: Actor, *, name: str, login: str
) -> tuple[Invitation, str]:
    """A one-time link for the child's secretary; refused for a login that already holds a
    role there or has a pending invitation."""
    try:
        with writing_into(child, actor):
            invitation, token = accounts.invite(
                child, login=login, name=name, role=Role.SECRETARY, invited_by=actor
            )
    except accounts.AccountError as error:
        raise OnboardingError(str(error)) from error
    return invitation, token


def latest_secretary_invitation(child: Association) -> Invitation | None:
    with tenant_context(scope_for(child, writable=False)):
        return db.session.scalar(
            select(Invitation)
            .where(Invitation.role == Role.SECRETARY, Invitation.accepted_at.is_(None))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(1)
        )


def resend_secretary_invitation(child: Association, actor: Actor) -> tuple[Invitation, str]:
    invitation = latest_secretary_invitation(child)
    if invitation is None:
        raise OnboardingError(_("There is no invitation to send again."))
    try:
        with writing_into(child, actor):
            token = accounts.renew_invitation(invitation)
    except accounts.AccountError as error:
        raise OnboardingError(str(error)) from error
    return invitation, token


def revoke_secretary_invitation(child: Association, actor: Actor) -> Invitation:
    invitation = latest_secretary_invitation(child)
    if invitation is None:
        raise OnboardingError(_("There is no invitation to revoke."))
    try:
        with writing_into(child, actor):
            accounts.revoke_invitation(invitation)
    except accounts.AccountError as error:
        raise OnboardingError(str(error)) from error
    return invitation


@dataclass(frozen=True)
class ChildRow:
    association: Association
    secretaries: list[str]
    invitation: Invitation | None


def children_page(
    parent: Association, page: int, per_page: int = 50
) -> tuple[Page, list[ChildRow]]:
    """Direct children with their secretaries and latest secretary invitation (three queries
    whatever the page size)."""
    result = paginate_rows(
        select(Association).where(Association.parent_id == parent.id).order_by(Association.name),
        page=page,
        per_page=per_page,
    )
    ids = [row[0].id for row in result.items]
    secretaries: dict[int, list[str]] = {child_id: [] for child_id in ids}
    invitations: dict[int, Invitation] = {}
    if ids:
        with subtree_reads():
            for association_id, name in db.session.execute(
                select(Membership.association_id, User.name)
                .join(User, User.id == Membership.user_id)
                .where(Membership.association_id.in_(ids), Membership.role == Role.SECRETARY)
                .order_by(User.name)
            ):
                secretaries[association_id].append(name)
            for invitation in db.session.scalars(
                select(Invitation)
                .where(Invitation.association_id.in_(ids), Invitation.role == Role.SECRETARY)
                .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            ):
                invitations.setdefault(invitation.association_id, invitation)
    rows = [
        ChildRow(row[0], secretaries[row[0].id], invitations.get(row[0].id)) for row in result.items
    ]
    return result, rows


def child_of(parent: Association, child_id: int) -> Association | None:
    return db.session.scalar(
        select(Association).where(Association.id == child_id, Association.parent_id == parent.id)
    )


def count_children(parent: Association) -> int:
    return db.session.scalar(
        select(func.count(Association.id)).where(Association.parent_id == parent.id)
    )
