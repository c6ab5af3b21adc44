"""The activity log: activities with photos, the timeline, quarterly compliance."""
