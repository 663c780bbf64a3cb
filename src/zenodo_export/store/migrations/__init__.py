"""Alembic migrations of the store, shipped inside the package."""

HEAD = "0006"
"""The newest revision. A store already there is opened without importing Alembic at all
(it costs ~10 MB and ~0.3 s per process); a test checks this equals Alembic's own head."""
