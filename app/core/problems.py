"""Service problems: the one exception a service raises when it refuses, and the one way a
view carries it onto a form.

A service checks its input and rules *before* it writes anything, and raises a `Problem` (or
a domain's subclass) that maps each form field to a translated message; the field "" (or
None) stands for the form as a whole. The view catches it and calls `show_problems`: each
message lands on its field, and one whose field the form does not have lands in the
form-level errors (`form.form_errors`, shown by the `form_errors` macro) — never lost, never
a 500.

Every service problem derives from `Problem`, so a view can catch them all with one name.
A domain's subclasses are named `<Domain>Error` (the domain's base, or its only class, whose
status says what went wrong), `<Domain>Invalid` (bad input to correct, 422) and
`<Domain>Refused` (not allowed now, usually 403): `ReportInvalid`, `OversightRefused`.
"""

from collections.abc import Mapping

from flask_wtf import FlaskForm


class Problem(ValueError):
    """A service refused an action. `problems` maps a form field name ("" for the whole form)
    to a translated message; `message` and `field` are the first of them; `status` is the HTTP
    status the view answers with."""

    status: int = 422

    def __init__(self, problems, field: str | None = None, *, status: int | None = None):
        if isinstance(problems, Mapping):
            self.problems = dict(problems)
        else:
            self.problems = {field or "": problems}
        first_field, self.message = next(iter(self.problems.items()))
        self.field = first_field or None
        if status is not None:
            self.status = status
        super().__init__(self.message)


def show_problems(
    form: FlaskForm, problems: Problem | Mapping, *, aliases: Mapping[str, str] | None = None
) -> None:
    """Put each problem on the form field it names (after `aliases`: a service's name for a
    field the form calls otherwise), or on the form as a whole when the form has no such
    field. Messages become text here, so the page escapes them."""
    if isinstance(problems, Problem):
        problems = problems.problems
    for name, lazy_message in problems.items():
        # A lazy string passes Jinja's escaping as if it were markup; text is escaped.
        message = str(lazy_message)
        name = (aliases or {}).get(name, name)
        target = form[name] if name and name in form else None
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)
