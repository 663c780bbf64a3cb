"""A Zenodo-compatible sandbox server: today's legacy deposit API, records and fault injection.

Build the ASGI app with ``create_app(config)``; run it in a background thread with
``run_in_thread(config)`` (tests, the demo) or blocking with ``serve`` (the CLI's
``zenodo-export sandbox``). ``build_config`` accepts the command line's syntax for tokens,
rate limits, sizes and faults. See docs/sandbox.md.
"""

from __future__ import annotations

from zenodo_export.sandbox.app import create_app
from zenodo_export.sandbox.config import SandboxConfig, build_config
from zenodo_export.sandbox.server import RunningSandbox, run_in_thread, serve

__all__ = [
    "RunningSandbox",
    "SandboxConfig",
    "build_config",
    "create_app",
    "run_in_thread",
    "serve",
]
