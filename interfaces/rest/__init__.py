"""REST interface (FastAPI): commands under /api/v1, problem+json errors, bearer-token auth."""

from interfaces.rest.app import create_app

__all__ = ["create_app"]
