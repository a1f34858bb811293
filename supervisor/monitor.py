"""``python -m supervisor.monitor <scan_id>``: the tiny parent of one scan process.

Why it exists: only a process's parent learns how it ended (exit code, or the signal that
killed it). The web worker that triggers a scan cannot be that parent (gunicorn recycles
workers, and a child it never waits for becomes a zombie), so the launcher starts this monitor
instead, which detaches itself (fork; the first process exits at once and the launcher reaps
it), starts ``python -m scanner.run <scan_id>`` in a session and process group of its own, waits
for it, and writes ``exit_status.json`` in the scan's run directory. The supervisor reads that
file to say "killed by SIGKILL" rather than "vanished".

The monitor imports nothing heavy: it must start in milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

EXIT_STATUS_FILE = "exit_status.json"


def run_dir_for(scan_id: str) -> Path:
    data = Path(os.environ.get("OPENSHIELD_DATA_DIR") or "./var").resolve()
    return data / "scans" / scan_id


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m supervisor.monitor <scan_id>", file=sys.stderr)
        return 2
    try:
        scan_id = str(uuid.UUID(argv[0]))
    except ValueError:
        print(f"not a UUID: {argv[0]!r}", file=sys.stderr)
        return 2
    run_dir = run_dir_for(scan_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    if os.fork() > 0:
        return 0  # the launcher reaps this first process right away
    os.setsid()  # the monitor's own session: a kill of the scan's group does not reach it
    for sig in (signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    with open(run_dir / "scan.log", "ab", buffering=0) as log:
        try:
            scan = subprocess.Popen(
                [sys.executable, "-m", "scanner.run", scan_id],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                close_fds=True,
            )
        except OSError as exc:
            log.write(f"monitor: could not start scanner.run: {exc}\n".encode())
            _write_status(run_dir, None, 127, str(exc))
            os._exit(1)
        (run_dir / "monitor.pid").write_text(f"{os.getpid()}\n")
        returncode = scan.wait()
    _write_status(run_dir, scan.pid, returncode, None)
    os._exit(0)


def _write_status(run_dir: Path, pid: int | None, returncode: int, error: str | None) -> None:
    status = {"pid": pid, "returncode": returncode, "ended_at": time.time(), "error": error}
    if returncode < 0:
        status["signal"] = signal.Signals(-returncode).name
    tmp = run_dir / f".{EXIT_STATUS_FILE}.tmp"
    tmp.write_text(json.dumps(status))
    os.replace(tmp, run_dir / EXIT_STATUS_FILE)


def read_exit_status(run_dir: Path) -> dict[str, object] | None:
    try:
        return json.loads((run_dir / EXIT_STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
