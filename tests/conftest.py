from __future__ import annotations

import pytest


@pytest.fixture(params=[False, True], ids=["wsgi", "asgi"])
def asgi(request: pytest.FixtureRequest) -> bool:
    """Run a test against the WSGI and the ASGI app."""
    return bool(request.param)
