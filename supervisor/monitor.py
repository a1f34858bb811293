"""``python -m supervisor.monitor <scan_id>``: the tiny parent of one scan process.

Why it exists: only a process's parent learns how it ended (exit code, or the signal that
killed it). The web worker that triggers a scan cannot be that parent (gunicorn recycles
workers, and a child it never waits for becomes a zombie), so the launcher starts this monitor
instead, which detaches itself (fork; the first process exits at once and the launcher reaps
it), starts ``python -m scanner.run <scan_id>`` in a session and process group of its own, waits
for it, and writes ``exit_status.json`` in the scan's run directory. The supervisor reads that
file to say "killed by SIGKILL" rather than "vanished".

The same monitor parents a CVE re-enrichment (``--kind enrich``: ``python -m scanner.enrich
<scan_id>``, run directory ``<data>/scans/<scan_id>/enrich/``, log ``enrich.log``), so both
kinds of process are launched, watched and reported on the same way.

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


class ProcessKind:
    """What a monitor starts: the module, where its run files live, what its log is called.

    (A plain class: dataclasses would cost the monitor's start-up an import.)
    """

    def __init__(self, module: str, subdir: str | None, log_name: str) -> None:
        self.module = module
        self.subdir = subdir
        self.log_name = log_name


KINDS = {
    "scan": ProcessKind("scanner.run", None, "scan.log"),
    "enrich": ProcessKind("scanner.enrich", "enrich", "enrich.log"),
}


def run_dir_in(data_dir: Path, scan_id: str, kind: str = "scan") -> Path:
    """``<data>/scans/<scan_id>`` for a scan, ``…/<scan_id>/enrich`` for a re-enrichment."""
    base = data_dir / "scans" / scan_id
    sub = KINDS[kind].subdir
    return base / sub if sub else base


def run_dir_for(scan_id: str, kind: str = "scan") -> Path:
    return run_dir_in(Path(os.environ.get("OPENSHIELD_DATA_DIR") or "./var").resolve(), scan_id, kind)


def main(argv: list[str]) -> int:
    kind = "scan"
    if len(argv) >= 2 and argv[0] == "--kind":
        kind, argv = argv[1], argv[2:]
    if kind not in KINDS or len(argv) != 1:
        print("usage: python -m supervisor.monitor [--kind scan|enrich] <scan_id>", file=sys.stderr)
        return 2
    try:
        scan_id = str(uuid.UUID(argv[0]))
    except ValueError:
        print(f"not a UUID: {argv[0]!r}", file=sys.stderr)
        return 2
    spec = KINDS[kind]
    run_dir = run_dir_for(scan_id, kind)
    run_dir.mkdir(parents=True, exist_ok=True)
    if os.fork() > 0:
        return 0  # the launcher reaps this first process right away
    os.setsid()  # the monitor's own session: a kill of the scan's group does not reach it
    for sig in (signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    with open(run_dir / spec.log_name, "ab", buffering=0) as log:
        try:
            scan = subprocess.Popen(
                [sys.executable, "-m", spec.module, scan_id],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                close_fds=True,
            )
        except OSError as exc:
            log.write(f"monitor: could not start {spec.module}: {exc}\n".encode())
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
