"""The monitor's notion of "now": real UTC time plus an offset read from a file, so tests
(and a staging demo) can move the monitor's clock without restarting it or mocking
anything. Production leaves SLA_MONITOR_CLOCK_FILE unset: the offset is 0.

The file holds one number, the offset in seconds (e.g. ``3600`` is an hour ahead); it is
re-read whenever it changes (write a new file and rename it over the old one).
"""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._mtime: tuple | None = None
        self._offset = timedelta()

    def offset(self) -> timedelta:
        if self.path is None:
            return timedelta()
        try:
            st = os.stat(self.path)
            mtime = (st.st_mtime_ns, st.st_ino, st.st_size)  # a replaced file is a new inode
        except FileNotFoundError:
            return timedelta()
        if mtime != self._mtime:
            text = self.path.read_text().strip()
            try:
                self._offset = timedelta(seconds=float(text or 0))
                self._mtime = mtime
            except ValueError:
                pass  # half-written: keep the last offset, read it again next time
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


CLOCK = Clock()


def use(path: str | Path | None) -> Clock:
    """Point the process's clock at a clock file (or none)."""
    global CLOCK
    CLOCK.path = Path(path) if path else None
    CLOCK._mtime = None
    return CLOCK
