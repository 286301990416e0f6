"""The control API under ``/_mock/``: routes and token check, operations, JSON forms, OpenAPI."""
