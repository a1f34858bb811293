"""What a collecting scan's ``progress.json`` adds to ``GET /api/scans/<id>``.

The scan row says how many resources were listed; how many reads are done of how many known
is only in the run directory (written every second, not worth a database write each time).
The file is on the host that runs the scan, so another host's API answers ``null``: the
dashboard then shows the resources listed alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from supervisor.kinds import SCAN
from supervisor.rundir import RunDir


def collection_progress(scan: Mapping[str, Any], data_dir: Path) -> dict[str, int] | None:
    """``{resources_listed, reads_done, reads_total}`` while the scan collects here, else None."""
    if scan.get("status") != "running" or scan.get("phase") != "collecting":
        return None
    data = RunDir(data_dir, scan["scan_id"], SCAN).read_progress()
    if not data:
        return None
    done, total, listed = data.get("fetches_done"), data.get("fetches_total"), data.get("resources_collected")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (done, total, listed)):
        return None
    return {"resources_listed": listed, "reads_done": done, "reads_total": total}
