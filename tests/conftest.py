"""Shared fixtures: real databases (SQLite files, the local PostgreSQL) and the real sandbox."""

pytest_plugins = [
    "tests.fixtures.cli",
    "tests.fixtures.database",
    "tests.fixtures.sandbox",
]
