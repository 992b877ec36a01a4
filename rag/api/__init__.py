"""The HTTP API: `create_app(settings, pipeline=None)` builds the FastAPI app."""

from rag.api.app import create_app

__all__ = ["create_app"]
