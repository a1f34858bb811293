"""``bin/openshield supervisor status``: is each host's supervisor alive, and what does it watch?

Reads the supervisors' heartbeat rows (one per host, the same rows ``GET /health`` reports) and
counts active scans per host, and the launch slots each host's runs hold (a cancelled or failed
run keeps its slot until its process has exited, so slots can exceed active scans for a moment;
see ``supervisor.slots``). For this host it also checks the recorded pid, since a row can
look fresh for a few seconds after its process died. Exit code 0 when this host's supervisor is
alive, 1 when it is not (so a shell script or a cron job can restart it).
"""

from __future__ import annotations

import argparse
from typing import Any

from api.views import beat_view
from cli.output import EXIT_FAILED, EXIT_OK, duration, load_settings, print_json, print_table
from store.clock import utcnow
from store.runs import slots_taken
from store.scans import ScanStore
from store.supervisors import ALIVE_SECONDS, all_beats
from supervisor.processes import process_matches


def _status(args: argparse.Namespace) -> int:
    settings = load_settings()
    beats = all_beats(settings.database_url)
    active = ScanStore(settings.database_url).active_count_by_host()
    now = utcnow()
    entries: list[dict[str, Any]] = []
    for beat in beats:
        age = (now - beat.last_seen).total_seconds()
        local = beat.host == settings.host_id
        alive = age < ALIVE_SECONDS and (not local or process_matches(beat.pid, None))
        entries.append({**beat_view(beat), "alive": alive, "last_seen_age_seconds": round(age, 1),
                        "this_host": local, "active_scans": int(active.get(beat.host, 0)),
                        "slots_held": slots_taken(settings.database_url, beat.host)})
    here = next((e for e in entries if e["this_host"]), None)
    here_alive = bool(here and here["alive"])
    queued = int(active.get(None, 0))
    if args.json:
        print_json({"host": settings.host_id, "alive": here_alive, "queued_scans": queued, "supervisors": entries})
    else:
        rows = [[e["host"] + (" (this host)" if e["this_host"] else ""), e["pid"], e["alive"],
                 duration(e["last_seen_age_seconds"]), e["started_at"], e["active_scans"], e["slots_held"]]
                for e in entries]
        print_table(["host", "pid", "alive", "last_seen", "started", "active_scans", "slots_held"], rows)
        print(f"queued scans (no host yet): {queued}")
        if not here_alive:
            print(f"no live supervisor on this host ({settings.host_id}); startup.sh restarts it, "
                  "or run: python -m supervisor")
    return EXIT_OK if here_alive else EXIT_FAILED


def add_parser(sub: Any) -> None:
    group = sub.add_parser("supervisor", help="the per-host supervisors")
    cmds = group.add_subparsers(dest="command", required=True)
    status = cmds.add_parser("status", help="every host's supervisor: alive, last heartbeat, active scans, launch slots held")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)
