"""Volunteers (志愿者): profiles, teams, shifts, hours, recognition and reminders."""
