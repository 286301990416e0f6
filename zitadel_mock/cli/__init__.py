"""The ``zitadel-mock`` command: parse, then serve, validate, schema or generate."""

from __future__ import annotations

from .main import build_parser, console_main, main

__all__ = ["build_parser", "console_main", "main"]
