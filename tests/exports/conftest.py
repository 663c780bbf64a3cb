"""Fixtures of the export tests: real files, as the pipeline tests make them."""

from __future__ import annotations

from tests.pipeline.conftest import make_file

__all__ = ["make_file"]
