"""A mock serving the main scenario, its test handle, and a grpcio channel to it."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from testkit import MAIN, scenario

from zitadel_mock import MockServer
from zitadel_mock.testing import ZitadelMock


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(scenario(MAIN)) as mock:
        yield mock


@pytest.fixture
def mock(server: MockServer) -> Iterator[ZitadelMock]:
    handle = ZitadelMock(server)
    handle.reset()
    yield handle
    handle.reset()


@pytest.fixture
def channel(server: MockServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.url.removeprefix("http://")) as chan:
        yield chan
