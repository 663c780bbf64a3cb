"""The seam to Zenodo: one client, typed answers, errors translated into our tree."""

from zenodo_export.zenodo.client import Upload, ZenodoClient
from zenodo_export.zenodo.models import Deposition, RemoteFile

__all__ = ["Deposition", "RemoteFile", "Upload", "ZenodoClient"]
