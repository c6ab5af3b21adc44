"""The problems an oversight service raises: `OversightError` for a step the rules do not allow
(its status: 404, 409, 422), `OversightRefused` when the user may not take it (403), and
`OversightInvalid` for input to correct, field by field."""

from app.core.problems import Problem


class OversightError(Problem):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422):
        super().__init__(message, status=status)


class OversightRefused(OversightError):
    def __init__(self, message):
        super().__init__(message, status=403)


class OversightInvalid(OversightError):
    """Bad input; `problems` maps a form field to a translated message."""

    def __init__(self, problems: dict):
        Problem.__init__(self, problems)
