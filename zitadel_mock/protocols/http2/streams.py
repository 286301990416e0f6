"""What arrives on an HTTP/2 connection: its request streams, or an upgraded HTTP/1.1 request."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

__all__ = ["PREFACE", "Stream", "Upgrade"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@dataclass(frozen=True)
class Upgrade:
    """An HTTP/1.1 request that asked ``Upgrade: h2c``: it becomes stream 1."""

    settings: str  # the HTTP2-Settings header
    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]  # lower-case names, without the hop-by-hop ones
    body: bytes


@dataclass
class Stream:
    """One request stream: what arrived, and whether it is still there to be answered."""

    id: int
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    arrived_ns: int = field(default_factory=time.time_ns)
    started: float = field(default_factory=time.perf_counter)
    opened: float = field(default_factory=time.monotonic)
    gone: threading.Event = field(default_factory=threading.Event)  # reset, or connection lost
    refused: bool = False  # answered before its body ended (too large): the rest is dropped
    answered: bool = False
    dispatched: bool = False  # the whole request came and went to its handler
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def method(self) -> str:
        return self.header(":method") or ""

    @property
    def path(self) -> str:
        return self.header(":path") or ""

    def metadata(self) -> dict[str, str]:
        """Lower-case names to first values, pseudo-headers left out."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            if not key.startswith(":"):
                out.setdefault(key, value)
        return out
