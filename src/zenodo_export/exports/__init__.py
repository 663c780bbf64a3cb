"""The export domain: what an export is, and what it becomes on Zenodo."""
