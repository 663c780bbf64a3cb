"""Alembic environment: run migrations on the store's locked connection.

``Store.migrate()`` passes its connection in ``config.attributes["connection"]``. Run by hand
(``alembic upgrade head`` with the repo's ``alembic.ini``), the URL comes from
``sqlalchemy.url`` in the ini file or else from the settings (``DATABASE_URL``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from zenodo_export.store.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from zenodo_export.settings import load_settings

    return load_settings().resolved_database_url


def _run_offline() -> None:
    from zenodo_export.store.db import parse_url

    context.configure(url=parse_url(_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from zenodo_export.store.db import Store

    store = Store.open(_url(), migrate=False)
    try:
        with store.migration_connection() as locked:
            _configure(locked)
    finally:
        store.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
