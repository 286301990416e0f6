"""``zitadel-mock serve``'s access log: one line per request, written off the serving thread.

The serving thread only hands each ``Call`` to a bounded queue (a length check and an append);
one writer thread formats what is queued and writes it in batches, one write a batch, straight
to the stream's file descriptor. A parent that never reads serve's stderr thus blocks the
writer alone: once the queue is full, calls are dropped and counted, and when writing resumes a
line says how many were lost. On close, what is queued is written, within a bound.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, TextIO

from ..journal import Call
from ..limits import printable

if TYPE_CHECKING:
    from ..server import MockServer

__all__ = [
    "QUEUE_LIMIT",
    "AccessLog",
    "access_json",
    "access_jsons",
    "access_line",
    "access_lines",
    "dropped_json",
    "dropped_line",
    "log_requests",
]

# Calls waiting for the writer. At thousands of requests a second the writer takes a few
# hundred a batch; the rest is room for a parent that reads stderr late. The calls are the
# journal's own objects, so the queue holds references, not copies.
QUEUE_LIMIT = 8192
INTERVAL = 0.05  # seconds between batches: lines show at most this late
CLOSE_TIMEOUT = 1.0  # seconds that close() waits for the last lines to be written

# -- the lines -----------------------------------------------------------------------------------

_second: tuple[int, str] = (-1, "")  # the last second formatted: strftime costs microseconds
_MILLIS = tuple(f".{milli:03d}Z" for milli in range(1000))


def _log_time(ns: int) -> str:
    """RFC 3339, UTC, to the millisecond: a fixed width, so that the lines align."""
    global _second
    seconds, milli = divmod(ns // 1_000_000, 1000)
    last = _second  # read once: another thread may replace it (with an equally valid pair)
    if last[0] != seconds:
        last = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return last[1] + _MILLIS[milli]


# What a line says besides its time and duration repeats from one request to the next (same
# route, same answer, same why), so it is made once and kept, for calls no forced rule touched
# (the others are rare, and each says what fired). Bounded: at most _MEMO_SIZE entries of at
# most _MEMO_TEXT characters each; a full memo starts over.
_MEMO_SIZE = 2048
_MEMO_TEXT = 1024
_text_memo: dict[tuple[object, ...], tuple[str, str]] = {}
_json_memo: dict[tuple[object, ...], tuple[str, str]] = {}
# The key: what a line says besides its time, its duration and the fault, read in one call.
_SAID = ("method", "path", "rpc", "status", "forced", "protocol", "why", "namespace")
_says = itemgetter(*(Call._fields.index(name) for name in _SAID))
_PATH, _WHY = _SAID.index("path"), _SAID.index("why")  # the key's two long values


def _remember(
    memo: dict[tuple[object, ...], tuple[str, str]],
    key: tuple[object, ...] | None,
    parts: tuple[str, str],
) -> None:
    if key is not None and len(key[_PATH]) + len(key[_WHY]) <= _MEMO_TEXT:  # type: ignore[arg-type]
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = parts


def _text_parts(call: Call, key: tuple[object, ...] | None) -> tuple[str, str]:
    fault = call.injected.fault if call.injected is not None else None
    forced = f" ({fault})" if fault else " (forced)" if call.forced else ""
    parts = (
        f" {printable(call.method)} {printable(call.path)} {call.rpc or '-'} "
        f"{call.status}{forced} {call.protocol} ",
        f"ms why: {printable(call.why)}",
    )
    _remember(_text_memo, key, parts)
    return parts


def _json_parts(call: Call, key: tuple[object, ...] | None) -> tuple[str, str]:
    middle = json.dumps(
        {
            "method": call.method,
            "path": call.path,
            "rpc": call.rpc,
            "status": call.status,
            "forced": call.forced,
            "fault": call.injected.fault if call.injected is not None else None,
            "protocol": call.protocol,
            "namespace": call.namespace,
        },
        ensure_ascii=True,
    )
    parts = (f'", {middle[1:-1]}, "duration": ', f', "why": {json.dumps(call.why)}}}')
    _remember(_json_memo, key, parts)
    return parts


def access_lines(calls: Iterable[Call]) -> list[str]:
    """One access-log line a call: time, method, path, rpc, status, protocol, duration, why.

    Every value a client chose is shown with its control characters escaped, so that a
    request can never write a line of its own. Made a batch at a time: the writer's loop,
    with what a line repeats looked up once made.
    """
    memo, lines = _text_memo, []
    last, stamp = -1, ""  # the millisecond formatted last: lines of one share it
    for call in calls:
        if call.injected is None:
            key = _says(call)
            parts = memo.get(key) or _text_parts(call, key)
        else:
            parts = _text_parts(call, None)
        ns = call.time_ns or time.time_ns()
        if ns // 1_000_000 != last:
            last, stamp = ns // 1_000_000, _log_time(ns)
        lines.append(f"{stamp}{parts[0]}{call.duration * 1000:.1f}{parts[1]}")
    return lines


def access_line(call: Call) -> str:
    """One call's access-log line (``access_lines``)."""
    return access_lines((call,))[0]


def access_jsons(calls: Iterable[Call]) -> list[str]:
    """``access_lines`` as JSON objects (ASCII: control characters are escaped)."""
    memo, lines = _json_memo, []
    last, stamp = -1, ""
    for call in calls:
        if call.injected is None:
            key = _says(call)
            parts = memo.get(key) or _json_parts(call, key)
        else:
            parts = _json_parts(call, None)
        duration = round(call.duration, 6)
        # As json.dumps writes a finite float (its repr); anything else, through json.dumps.
        number = (
            float.__repr__(duration)
            if duration.__class__ is float and math.isfinite(duration)
            else json.dumps(duration)
        )
        ns = call.time_ns or time.time_ns()
        if ns // 1_000_000 != last:
            last, stamp = ns // 1_000_000, _log_time(ns)
        lines.append(f'{{"time": "{stamp}{parts[0]}{number}{parts[1]}')
    return lines


def access_json(call: Call) -> str:
    """One call's access-log line as a JSON object (``access_jsons``)."""
    return access_jsons((call,))[0]


def dropped_line(count: int) -> str:
    """The line written when writing resumes after ``count`` calls were dropped."""
    return f"{_log_time(time.time_ns())} {count} access-log lines dropped: stderr is not being read"


def dropped_json(count: int) -> str:
    """``dropped_line`` as a JSON object, for log collectors."""
    return json.dumps(
        {
            "time": _log_time(time.time_ns()),
            "dropped": count,
            "message": f"{count} access-log lines dropped: stderr is not being read",
        }
    )


# -- the writer ----------------------------------------------------------------------------------


class AccessLog:
    """Calls in, lines out on ``stream`` (default: stderr), from a writer thread.

    ``observe`` is the state's observer: it runs on the serving thread, so it only queues.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        json_lines: bool = False,
        limit: int = QUEUE_LIMIT,
        interval: float = INTERVAL,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.format: Callable[[Iterable[Call]], list[str]] = (
            access_jsons if json_lines else access_lines
        )
        self.notice: Callable[[int], str] = dropped_json if json_lines else dropped_line
        self.interval = interval
        self._queue: deque[Call] = deque()
        self._lock = threading.Lock()  # guards the drop count
        self._dropped = 0
        self._broken = False  # the stream refused a write (its reader is gone): lines discarded
        # Held until close(): the writer waits on it between batches. A lock's timed acquire
        # is one C call, where an Event's wait runs a Condition's Python code, 20 times a second.
        self._running = threading.Lock()
        self._running.acquire()
        self._closed = False
        self._thread: threading.Thread | None = None
        queue, append = self._queue, self._queue.append

        def observe(call: Call) -> None:
            # len() and append() are each atomic: with several serving threads the queue may
            # exceed the limit by one call per thread, no more.
            if len(queue) < limit:
                append(call)
            else:
                with self._lock:
                    self._dropped += 1

        self.observe = observe

    @property
    def dropped(self) -> int:
        """Calls dropped since the last line that reported drops."""
        return self._dropped

    def start(self) -> AccessLog:
        """Start the writer thread."""
        if self._thread is None:
            write = self._writer()  # here: the stream is flushed before the thread writes
            self._thread = threading.Thread(
                target=self._run, args=(write,), name="zitadel-mock-access-log", daemon=True
            )
            self._thread.start()
        return self

    def close(self, timeout: float = CLOSE_TIMEOUT) -> bool:
        """Write what is queued and stop the writer; False if it did not finish in ``timeout``.

        A writer blocked by a stream nobody reads is left behind (a daemon thread, holding no
        lock of the stream's), so that the process can still exit.
        """
        thread = self._thread
        if thread is None:
            return True
        if not self._closed:
            self._closed = True
            self._running.release()
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, write: Callable[[str], None]) -> None:
        while not self._running.acquire(timeout=self.interval):
            self._write_queued(write)
        while self._queue or self._dropped:
            self._write_queued(write)

    def _write_queued(self, write: Callable[[str], None]) -> None:
        """Format the calls queued now and write them, with one line for those dropped."""
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            ready = len(self._queue)  # all queued before the drops: they come first
        pop = self._queue.popleft
        calls = [pop() for _ in range(ready)]
        if self._broken:
            return
        try:
            lines = self.format(calls)
        except Exception as exc:  # a defect, not a user mistake: said, and the writer lives on
            lines = [f"access log: a line could not be formatted: {exc!r}"]
        if dropped:
            lines.append(self.notice(dropped))
        if lines:
            lines.append("")
            try:
                write("\n".join(lines))
            except (OSError, ValueError):  # the reader is gone, or the stream closed
                self._broken = True

    def _writer(self) -> Callable[[str], None]:
        """One write per batch: to the descriptor when there is one, else through the stream.

        Written to the descriptor, a batch takes none of the stream's locks: blocked by a full
        pipe, the writer cannot stall another thread's write, nor the flush at exit.
        """
        stream = self.stream
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # a stream of its own (a test's StringIO)
            fd = -1
        if fd < 0:

            def write_stream(text: str) -> None:
                stream.write(text)
                stream.flush()

            return write_stream
        stream.flush()  # what the stream holds goes first
        encoding = getattr(stream, "encoding", None) or "utf-8"
        errors = getattr(stream, "errors", None) or "backslashreplace"

        def write_fd(text: str) -> None:
            data = memoryview(text.encode(encoding, errors))
            while data:
                data = data[os.write(fd, data) :]

        return write_fd


def log_requests(server: MockServer, *, json_lines: bool = False) -> AccessLog:
    """Log one access-log line on stderr per request the server answers, control calls too.

    Returns the started log: ``close()`` it once the server has stopped, to write the rest.
    """
    log = AccessLog(json_lines=json_lines).start()
    server.state.observers.append(log.observe)
    return log
