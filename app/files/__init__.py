"""Serving kept uploads (photos, evidence, logos) to those who may read them."""
