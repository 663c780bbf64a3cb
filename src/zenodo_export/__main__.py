"""Run the CLI as ``python -m zenodo_export``."""

from __future__ import annotations

from zenodo_export.cli import main

if __name__ == "__main__":
    main()
