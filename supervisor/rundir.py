"""One owner of a run directory's layout: ``<OPENSHIELD_DATA_DIR>/scans/<scan_id>/[enrich/]``.

    pid               the run's process (written when it claims its record)
    monitor.pid       its monitor, the parent that records how it ended
    exit_status.json  that record: pid, returncode (negative: killed by that signal), signal name
    progress.json     the run's latest progress, replaced atomically
    scan.log          the run's log (enrich.log for a re-enrichment)

Everything that reads or writes these files (the launcher, the monitor, the scan and
enrichment processes, the supervisor, the API's log route, ``bin/openshield``) goes through
:class:`RunDir`, so a file name is written in one place. The scan id is validated as a UUID
before it becomes part of a path. Standard library only: the monitor imports this.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from store.parsing import parse_uuid
from supervisor.kinds import KINDS, SCAN, RunKind

PID_FILE = "pid"
MONITOR_PID_FILE = "monitor.pid"
EXIT_STATUS_FILE = "exit_status.json"
PROGRESS_FILE = "progress.json"

# Upper bound on what one tail reads, whatever the line count asked: lines can be very long.
TAIL_MAX_BYTES = 4 * 1024 * 1024
_TAIL_BLOCK = 64 * 1024


class RunDir:
    def __init__(self, data_dir: Path, scan_id: str, kind: RunKind | str = SCAN) -> None:
        self.kind = KINDS[kind] if isinstance(kind, str) else kind
        self.scan_id = parse_uuid(scan_id, "scan_id")
        base = Path(data_dir) / "scans" / self.scan_id
        self.path = base / self.kind.subdir if self.kind.subdir else base

    @classmethod
    def from_env(cls, scan_id: str, kind: RunKind | str = SCAN) -> "RunDir":
        """The run directory under ``OPENSHIELD_DATA_DIR`` (what a spawned process was given)."""
        return cls(Path(os.environ.get("OPENSHIELD_DATA_DIR") or "./var").resolve(), scan_id, kind)

    def __repr__(self) -> str:
        return f"RunDir({self.path})"

    # ------------------------------------------------------------------ paths
    @property
    def log_path(self) -> Path:
        return self.path / self.kind.log_name

    @property
    def progress_path(self) -> Path:
        return self.path / PROGRESS_FILE

    def create(self) -> "RunDir":
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def open_log(self) -> BinaryIO:
        """The log for appending, unbuffered (a child process inherits the descriptor)."""
        self.create()
        return open(self.log_path, "ab", buffering=0)

    # ------------------------------------------------------------------ pids
    def write_pid(self, pid: int) -> None:
        (self.path / PID_FILE).write_text(f"{pid}\n")

    def read_pid(self) -> int | None:
        return _read_int(self.path / PID_FILE)

    def write_monitor_pid(self, pid: int) -> None:
        (self.path / MONITOR_PID_FILE).write_text(f"{pid}\n")

    def read_monitor_pid(self) -> int | None:
        return _read_int(self.path / MONITOR_PID_FILE)

    def has_monitor(self) -> bool:
        """Did a monitor ever start for this run (it writes its pid first thing)?"""
        return (self.path / MONITOR_PID_FILE).exists()

    def monitor_alive(self) -> bool:
        import psutil  # not at import: the monitor itself never asks

        pid = self.read_monitor_pid()
        if pid is None:
            return False
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    # ------------------------------------------------------------------ exit status
    def write_exit_status(self, pid: int | None, returncode: int, error: str | None = None) -> None:
        status: dict[str, Any] = {"pid": pid, "returncode": returncode, "ended_at": time.time(), "error": error}
        if returncode < 0:
            import signal

            status["signal"] = signal.Signals(-returncode).name
        self._write_json(self.path / EXIT_STATUS_FILE, status)

    def read_exit_status(self, pid: int | None = None) -> dict[str, Any] | None:
        """How the run's process ended, as its monitor recorded it; with ``pid``, only if the
        record is about that process (a previous attempt's file is not this one's)."""
        status = _read_json(self.path / EXIT_STATUS_FILE)
        if status is not None and pid is not None and status.get("pid") != pid:
            return None
        return status

    def clear_exit_status(self) -> None:
        (self.path / EXIT_STATUS_FILE).unlink(missing_ok=True)

    def clear_attempt(self) -> None:
        """Forget a previous attempt's monitor and exit status before a new launch: they must
        not be read as this launch's (its slot is released when *its* monitor says it ended)."""
        self.clear_exit_status()
        (self.path / MONITOR_PID_FILE).unlink(missing_ok=True)

    # ------------------------------------------------------------------ progress
    def write_progress(self, data: dict[str, Any]) -> None:
        self._write_json(self.progress_path, data, indent=1)

    def read_progress(self) -> dict[str, Any] | None:
        return _read_json(self.progress_path)

    # ------------------------------------------------------------------ log
    def tail(self, count: int, max_bytes: int = TAIL_MAX_BYTES) -> tuple[list[str], bool]:
        """The last ``count`` lines of the log, and whether anything before them was left out."""
        return tail_lines(self.log_path, count, max_bytes)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _write_json(path: Path, data: dict[str, Any], indent: int | None = None) -> None:
        """Write a temp file, then rename: a reader never sees half a file."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, indent=indent, sort_keys=indent is not None))
        os.replace(tmp, path)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def tail_lines(path: Path, count: int, max_bytes: int = TAIL_MAX_BYTES) -> tuple[list[str], bool]:
    """The last ``count`` lines of ``path``, and whether anything before them was left out.

    Reads backwards from the end in blocks, stopping once it has ``count`` complete lines or
    ``max_bytes``, so a log of any size costs the same. A missing file is an empty log (the
    run has not started writing yet).
    """
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return [], False
    with handle:
        pos = handle.seek(0, os.SEEK_END)
        chunks: list[bytes] = []
        newlines = taken = 0
        # The file's final newline ends the last line; only the newlines before it separate
        # lines, and ``count`` separators mean the first wanted line starts inside the data.
        trailing = 0
        while pos > 0 and newlines - trailing < count and taken < max_bytes:
            size = min(_TAIL_BLOCK, pos, max_bytes - taken)
            pos -= size
            handle.seek(pos)
            chunk = handle.read(size)
            if not chunks and chunk.endswith(b"\n"):
                trailing = 1
            chunks.append(chunk)
            taken += len(chunk)
            newlines += chunk.count(b"\n")
    data = b"".join(reversed(chunks))
    if not data:
        return [], False
    if data.endswith(b"\n"):
        data = data[:-1]
    pieces = data.split(b"\n")
    if pos > 0 and len(pieces) > 1:
        pieces = pieces[1:]  # starts mid-line (or at a line we did not need)
    truncated = pos > 0 or len(pieces) > count
    return [p.rstrip(b"\r").decode("utf-8", "replace") for p in pieces[-count:]], truncated
