"""How the dashboard words times, ages, durations and sizes (pure functions, Jinja filters)."""

from __future__ import annotations

import datetime as dt

from zenodo_export.clock import utcnow


def aware(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` in UTC (a naive one is taken as UTC, as the store writes it)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def when(moment: dt.datetime | str | None) -> str:
    """Word a moment as ``YYYY-MM-DD HH:MM:SS UTC``; an empty string for none."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            parsed = dt.datetime.fromisoformat(moment)
        except ValueError:
            return moment
        return when(parsed)
    return f"{aware(moment):%Y-%m-%d %H:%M:%S} UTC"


def span(seconds: float) -> str:
    """Word a length of time in at most two units: ``45 s``, ``3 min 5 s``, ``2 h 10 min``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def age(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """Word how long ago ``moment`` was (``in ...`` for a moment to come)."""
    if moment is None:
        return ""
    seconds = ((now or utcnow()) - aware(moment)).total_seconds()
    return f"{span(seconds)} ago" if seconds >= 0 else f"in {span(-seconds)}"


def duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """Word the time from ``start`` to ``end``; empty when either is unknown."""
    if start is None or end is None:
        return ""
    return span((aware(end) - aware(start)).total_seconds())


def size(n: int | None) -> str:
    """Word a size in bytes for people: ``512 bytes``, ``1.5 KiB``, ``3.2 MiB``."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


FILTERS = {"when": when, "age": age, "duration": duration, "size": size, "span": span}
"""The filters every dashboard template may use."""
