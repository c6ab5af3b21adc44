"""Oversight by higher associations: the 七有 review queue, rectification tasks and spot checks."""
