"""The yearly 七有 checklist with evidence and review by the higher association."""
