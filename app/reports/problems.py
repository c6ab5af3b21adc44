"""The problems a reports service raises: `ReportError` for a step the rules refuse (its status
says which: 403, 404, 409), `ReportInvalid` for input to correct, field by field."""

from app.core.problems import Problem


class ReportError(Problem):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422):
        super().__init__(message, status=status)


class ReportInvalid(ReportError):
    """Bad input; `problems` maps a form field to a translated message."""

    def __init__(self, problems: dict):
        Problem.__init__(self, problems)
