"""The problem an assessment service raises: a step the rules do not allow, or input to
correct (`field` names the form field)."""

from app.core.problems import Problem


class AssessmentError(Problem):
    """A step the rules do not allow: `message` is translated; `field` names the form field."""

    def __init__(self, message, status: int = 422, field: str | None = None):
        super().__init__(message, field, status=status)
