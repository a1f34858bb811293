"""The inside of a supervised process: the part every kind of run does the same way.

``python -m scanner.run`` and ``python -m scanner.enrich`` each do their own work, but claim
their record, write their pid, beat, log and react to signals through :class:`Worker`, so a
scan and a re-enrichment cannot disagree on what SIGTERM means or how a heartbeat works:

- **Signals.** SIGTERM/SIGINT raise :class:`SignalStop` in the main thread, so even a blocked
  network call unwinds at once; the run is recorded ``cancelled`` (``cancelled on request
  (SIGTERM)`` when a cancel was asked, ``cancelled by SIGTERM`` when an operator sent it) and the
  process exits with 128 + N without waiting for worker threads.
- **Claim.** One conditional UPDATE records the process's pid, host and create time; a second
  process for the same run loses and exits with :attr:`ExitCode.NOT_RUNNABLE`.
- **Heartbeat.** A daemon thread touches ``heartbeat_at`` every few seconds whatever the main
  thread does, and sets :attr:`Worker.stop` when a cancel is requested or the run was settled
  by someone else (the supervisor), so the work stops at its next check.
- **Logging.** Everything goes to the run's log file; the Azure SDK's and httpx's per-request
  lines stay at DEBUG (at INFO they drown the phase lines operators read).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any, Callable, NoReturn, Protocol

from store.db import serve_as_run
from supervisor.exit_codes import ExitCode, for_signal, signal_name
from supervisor.processes import own_identity
from supervisor.rundir import RunDir

log = logging.getLogger("supervisor.worker")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Loggers that write a line per HTTP request at INFO; kept for DEBUG.
CHATTY_LOGGERS = ("azure", "httpx", "httpcore", "msal", "urllib3", "kiota_http", "kiota_authentication_azure")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SignalStop(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT so a blocked call unwinds at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class RunRecords(Protocol):
    """What a worker needs from its kind's store (:class:`store.runs.RunStore`)."""

    def heartbeat(self, key: Any) -> tuple[bool, bool]: ...
    def get(self, key: Any) -> Any: ...
    def cancel(self, key: Any, message: str, *, exit_code: int | None = None) -> bool: ...


def configure_logging(run_dir: RunDir, level: int = logging.INFO) -> None:
    """Send this process's log records to the run's log file."""
    run_dir.create()
    handler = logging.FileHandler(run_dir.log_path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


class Worker:
    """One supervised run's process: claim, pid file, heartbeat and signals."""

    def __init__(self, records: RunRecords, run_dir: RunDir, heartbeat_interval: float) -> None:
        serve_as_run()  # before its first write: a run's own lock waits use the run bound
        self.records = records
        self.run_dir = run_dir
        self.heartbeat_interval = heartbeat_interval
        # set by a signal, a cancel request or the run being settled elsewhere: stop working
        self.stop = threading.Event()
        self.signalled: list[int] = []
        self._heartbeat: _Heartbeat | None = None

    def run(self, claim: Callable[[int, float], Any], work: Callable[[Any], int],
            on_signal_recorded: Callable[[str], None] | None = None, on_beat: Callable[[], None] | None = None) -> int:
        """Claim the run, beat while ``work(key)`` runs, and settle a signal the one way.

        ``claim(pid, create_time)`` returns the run's key, or None when there is nothing to
        claim (it says why on stderr); ``work(key)`` returns the exit code.
        """
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        key: Any = None
        try:
            pid, create_time = own_identity()
            key = claim(pid, create_time)
            if key is None:
                return ExitCode.NOT_RUNNABLE
            self.run_dir.write_pid(pid)
            self._heartbeat = _Heartbeat(self, key, on_beat)
            self._heartbeat.start()
            return work(key)
        except SignalStop as exc:
            message = self.record_signal(key, exc.signum)
            if on_signal_recorded is not None:
                on_signal_recorded(message)
            print(f"{self.run_dir.kind.noun} {self.run_dir.scan_id}: {message}", file=sys.stderr, flush=True)
            self.exit_now(for_signal(exc.signum))
        finally:
            if self._heartbeat is not None:
                self._heartbeat.halt.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Remembered as well as raised: raised inside an asyncio task the exception is caught
        # by the task, and the work then stops through ``stop`` instead.
        self.signalled.append(signum)
        self.stop.set()
        raise SignalStop(signum)

    def raise_if_signalled(self) -> None:
        """Work that noticed ``stop`` calls this: a signal outranks a cancel request."""
        if self.signalled:
            raise SignalStop(self.signalled[0])

    def record_signal(self, key: Any, signum: int) -> str:
        """Record a SIGTERM/SIGINT as ``cancelled`` (a no-op if the run already ended)."""
        name = signal_name(signum)
        if key is None:
            return f"stopped by {name} before claiming the run"
        current = self.records.get(key)
        requested = current is not None and bool(current.cancel_requested)
        message = f"cancelled on request ({name})" if requested else f"cancelled by {name}"
        log.info("stopped: %s", message)
        self.records.cancel(key, message, exit_code=for_signal(signum))
        return message

    @staticmethod
    def exit_now(code: int) -> NoReturn:
        """Leave without waiting for worker threads stuck in network calls."""
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class _Heartbeat(threading.Thread):
    """Touches ``heartbeat_at`` on a fixed beat, whatever the main thread does."""

    def __init__(self, worker: Worker, key: Any, on_beat: Callable[[], None] | None) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.worker = worker
        self.key = key
        self.on_beat = on_beat
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.worker.heartbeat_interval):
            try:
                running, cancel_requested = self.worker.records.heartbeat(self.key)
                if self.on_beat is not None:
                    self.on_beat()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the beat
                log.warning("heartbeat failed", exc_info=True)
                continue
            if cancel_requested or not running:
                self.worker.stop.set()
