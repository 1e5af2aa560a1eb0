"""Saving files so that two browser tabs (or two servers) never leave a half-written or mixed file behind.

Every file the editor writes goes to a temporary name in the same folder and is renamed into place
(``os.replace`` is atomic on one file system), so a reader sees the old file or the new one, never a mix.
The edits of a video carry a version: a change based on an older version than the saved one is refused (the
tab that made it reloads), so one tab never silently overwrites what another saved.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

__all__ = ["StaleEdit", "EditStore", "write_atomic"]


def write_atomic(path: Path, data: bytes | str) -> None:
    """Writes ``data`` to ``path`` through a temporary file of its own in the same folder, renamed when complete."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class StaleEdit(Exception):
    """A change based on version ``base`` when ``current`` is saved (another tab saved in between)."""

    def __init__(self, base: Any, current: int) -> None:
        super().__init__(f"the edits changed in another tab (version {current}, this change was made on "
                         f"version {base}); reload to continue from there")
        self.current = current


class EditStore:
    """One video's edits, per ratio, with a version number, saved to ``path`` (kept in memory when None).

    The file is ``{"version": n, "ratios": {"9:16": {"keyframes": [...], "modes": {...}}, ...}}``. It is read
    again under a lock at every change, so two servers on the same video see each other's versions too. A file
    that cannot be read (damaged by hand) is set aside as ``NAME.bad`` and the edits start empty, with a note the
    page shows.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.note: str | None = None
        self._memory: dict[str, Any] = {"version": 0, "ratios": {}}
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                try:
                    self._read()
                except ValueError as e:
                    os.replace(path, path.with_name(path.name + ".bad"))
                    self.note = f"the saved edits could not be read ({e}); they were moved to {path.name}.bad"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's threads by a mutex, other processes by a lock file beside the edits."""
        with self._lock:
            if self.path is None:
                yield
                return
            with open(self.path.with_name(self.path.name + ".lock"), "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
                yield

    def _read(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return self._memory
        try:
            d = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(str(e)) from None
        if not (isinstance(d, dict) and isinstance(d.get("version"), int) and isinstance(d.get("ratios"), dict)):
            raise ValueError("not an edits file")
        return d

    def get(self, ratio: str) -> tuple[int, dict[str, Any]]:
        """(version, the ratio's edits as saved)."""
        with self._locked():
            d = self._read()
        return d["version"], dict(d["ratios"].get(ratio, {}))

    def put(self, ratio: str, edits: dict[str, Any], base: Any) -> int:
        """Saves ``edits`` for ``ratio`` if ``base`` is the saved version; returns the new version."""
        with self._locked():
            d = self._read()
            if isinstance(base, bool) or base != d["version"]:
                raise StaleEdit(base, d["version"])
            new = {"version": d["version"] + 1, "ratios": {**d["ratios"], ratio: edits}}
            if self.path is not None:
                write_atomic(self.path, json.dumps(new, indent=1))
            else:
                self._memory = new
            return new["version"]
