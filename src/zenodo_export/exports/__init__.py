"""Exports: what an export is (``spec``, ``metadata``), how one run archives it (``run``,
``drafts``, ``files``, ``plan``), the janitor, and the feature's job kinds (``kinds``).

Nothing is imported here: ``store/models.py`` reads ``exports.spec``, and must not pull the job
runtime in with it.
"""
