"""Time: ``utcnow``, this machine's clock, for what people read (created, failed, finished).

Leases and run times are not measured by it: the database computes them with its own clock
(``store.types.db_time``), so that a worker whose clock is wrong decides nothing that another
worker relies on.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime (this machine's clock)."""
    return dt.datetime.now(UTC)
