"""``python -m supervisor.monitor [--kind scan|enrich] <scan_id>``: the tiny parent of one run.

Why it exists: only a process's parent learns how it ended (exit code, or the signal that
killed it). The web worker that triggers a run cannot be that parent (gunicorn recycles
workers, and a child it never waits for becomes a zombie), so the launcher starts this monitor
instead, which detaches itself (fork; the first process exits at once and the launcher reaps
it), starts the run (``python -m scanner.run <scan_id>`` or ``python -m scanner.enrich
<scan_id>``, see :mod:`supervisor.kinds`) in a session and process group of its own, waits for
it, and writes ``exit_status.json`` in the run directory. The supervisor reads that file to say
"killed by SIGKILL" rather than "vanished". The monitor lowers its own CPU and I/O priority
before it starts the run, which inherits them (:mod:`supervisor.priority`, ``OPENSHIELD_SCAN_NICE``).

The monitor imports nothing heavy: it must start in milliseconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from supervisor.exit_codes import ExitCode, scan_id_argument
from supervisor.kinds import KINDS
from supervisor.priority import lower_priority, run_nice, session_priority_hook
from supervisor.rundir import RunDir

USAGE = "usage: python -m supervisor.monitor [--kind scan|enrich] <scan_id>"


def main(argv: list[str]) -> int:
    kind = "scan"
    if len(argv) >= 2 and argv[0] == "--kind":
        kind, argv = argv[1], argv[2:]
    if kind not in KINDS:
        print(USAGE, file=sys.stderr)
        return ExitCode.USAGE
    scan_id = scan_id_argument(argv, USAGE)
    run_dir = RunDir.from_env(scan_id, kind).create()
    if os.fork() > 0:
        return 0  # the launcher reaps this first process right away
    os.setsid()  # the monitor's own session: a kill of the run's group does not reach it
    for sig in (signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    # first thing: from now on the run's launch slot waits for this monitor's word on the exit
    run_dir.write_monitor_pid(os.getpid())
    # below the API and the supervisor: the run inherits this from its first instruction
    nice = run_nice()
    priority = lower_priority(nice)
    with run_dir.open_log() as log:
        for note in priority:
            if "unchanged" in note:
                log.write(f"monitor: {note}\n".encode())
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", KINDS[kind].module, scan_id],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                close_fds=True,
                # after the child's setsid: its new session's scheduler group gets the nice value
                preexec_fn=session_priority_hook(nice),  # noqa: PLW1509 - the monitor has one thread
            )
        except OSError as exc:
            log.write(f"monitor: could not start {KINDS[kind].module}: {exc}\n".encode())
            run_dir.write_exit_status(None, 127, str(exc))
            os._exit(1)
        returncode = child.wait()
    run_dir.write_exit_status(child.pid, returncode)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
