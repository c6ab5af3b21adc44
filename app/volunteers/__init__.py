"""Volunteers (志愿者): profiles, teams, shifts, hours, recognition and reminders."""

from app.volunteers import reminders  # noqa: F401 - registers the scheduled reminder job
