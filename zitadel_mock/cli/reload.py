"""``serve --reload``: watch the scenario file and serve each valid edit.

A thread polls the file's size, modification time and inode (no dependency, works on every
file system, including bind mounts into containers where change notifications do not arrive).
When they change, the file is read and, if its content differs from what was last seen,
validated completely. A valid scenario is swapped in atomically: each request reads one
snapshot of the state, so a request being answered finishes on the old scenario. An invalid
edit changes nothing: the last good scenario is still served, and the precise error is logged
and shown by ``GET /_mock/health`` until a good edit (or the old content) comes back.

A reload is a reset to the new scenario in every namespace: changes, forced errors and journals
made for the old scenario are dropped with it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time

from ..errors import ScenarioError
from ..model import Scenario
from ..namespaces import Namespaces
from ..scenario.read import load_scenario

__all__ = ["Reloader"]

SETTLE = 0.05  # seconds a broken file is given to finish being written before it is reported
log = logging.getLogger("zitadel_mock.reload")

_Stamp = tuple[int, int, int] | None


class Reloader:
    """Poll a scenario file every ``interval`` seconds; load valid edits into ``namespaces``.

    ``check()`` looks once and can be called directly (tests do, rather than wait on the
    thread); ``start()`` and ``stop()`` run it in a background thread.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        namespaces: Namespaces | None = None,
        *,
        interval: float = 0.5,
    ) -> None:
        self.path = os.fspath(path)
        self.namespaces = namespaces  # where edits are loaded; set before the first check
        self.interval = interval
        # The file as it is now: what is served, if it is loaded after this (so no edit is
        # missed). Stat first: a write between the two is seen as a change by the next check.
        self._stamp = self._stat()
        self._served = self._seen = self._digest(self._read())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _stat(self) -> _Stamp:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _read(self) -> bytes | None:
        try:
            with open(self.path, "rb") as file:
                return file.read()
        except OSError:
            return None

    @staticmethod
    def _digest(data: bytes | None) -> str | None:
        return None if data is None else hashlib.sha256(data).hexdigest()

    def check(self) -> bool | None:
        """Look at the file once.

        Returns True if a new scenario is now served, False if an edit was rejected (the old
        scenario is still served), None if there was nothing new.
        """
        if self.namespaces is None:
            raise ValueError("the reloader has no namespaces to load edits into")
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        data = self._read()
        digest = self._digest(data)
        if digest == self._seen:
            return None  # touched, or saved with the same content
        self._seen = digest
        if digest == self._served:  # a bad edit was undone
            self._reject(None)
            return None
        try:
            scenario = self._parse()
        except ScenarioError as exc:
            # A file caught while it is written (truncated, then filled) reads as broken: look
            # again a moment later, and report only an edit that stays broken.
            time.sleep(SETTLE)
            if self._stat() != stamp:
                self._stamp = self._seen = None  # the next check reads it again
                return None
            self._reject(str(exc))
            return False
        self.namespaces.load(scenario)
        self._served = digest
        self._reject(None)
        log.info("reloaded %s", self.path)
        return True

    def _parse(self) -> Scenario:
        # Loaded again, not parsed from the bytes hashed above: the same checks and messages as
        # at start. Should the file change in between, its stamp changed too: the next check
        # reads it again.
        return load_scenario(self.path)

    def _reject(self, error: str | None) -> None:
        if self.namespaces is not None:
            self.namespaces.reload_error = error
        if error is not None:
            log.error("%s (still serving the last good scenario)", error)

    def start(self) -> Reloader:
        """Start watching in a background thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"zitadel-mock-reload-{self.path}", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a bug here must not end the watching
                log.exception("while checking %s", self.path)

    def stop(self) -> None:
        """Stop watching and wait for the thread to end."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def __enter__(self) -> Reloader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
