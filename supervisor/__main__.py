"""``python -m supervisor``: the per-host supervisor loop (see ``supervisor.loop``)."""

from __future__ import annotations

import logging
import signal
import sys

from store.settings import Settings
from supervisor.loop import AlreadyRunning, StopFlag, Supervisor


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s supervisor: %(message)s",
                        stream=sys.stderr)
    settings = Settings.from_env()
    supervisor = Supervisor(settings)
    try:
        supervisor.acquire_lock()
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    stop = StopFlag()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    supervisor.run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
