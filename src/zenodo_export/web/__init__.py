"""The web application: the dashboard, the JSON API (``/api/v1``), Lagotto's v7 API and metrics.

``create_app(settings)`` builds it on the same settings and database as the workers; any number
of ``zenodo-export serve`` processes may run beside any number of workers. Every request reads
the database, so every process shows the same truth.
"""

from zenodo_export.web.app import create_app

__all__ = ["create_app"]
