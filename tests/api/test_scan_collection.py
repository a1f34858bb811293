"""``collection`` in GET /api/scans/<id>: reads done/total from progress.json while collecting.

It lets the dashboard say "collecting: 1,345 resources listed, 2,445/2,509 reads" instead of
"0/82 rules". Only a running scan in phase ``collecting`` whose run directory is on this host
has it; otherwise it is null (never an error).
"""

from __future__ import annotations

from flask.testing import FlaskClient

from store.scans import ScanStore
from store.settings import Settings
from supervisor.rundir import RunDir
from tests.api.conftest import SUB, SUB2, auth


def collecting_scan(store: ScanStore) -> str:
    scan = store.create(SUB)
    assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    assert store.progress(scan.scan_id, phase="collecting", resources_collected=40)
    return scan.scan_id


def collection(client: FlaskClient, scan_id: str) -> object:
    response = client.get(f"/api/scans/{scan_id}", headers=auth("reader"))
    assert response.status_code == 200
    return response.get_json()["collection"]


def test_a_collecting_scan_reports_its_reads(client: FlaskClient, store: ScanStore, settings: Settings) -> None:
    scan_id = collecting_scan(store)
    RunDir(settings.data_dir, scan_id).create().write_progress(
        {"progress": 12, "resources_collected": 41, "fetches_done": 120, "fetches_total": 300}
    )
    assert collection(client, scan_id) == {"resources_listed": 41, "reads_done": 120, "reads_total": 300}


def test_no_progress_file_or_another_phase_is_null(client: FlaskClient, store: ScanStore, settings: Settings) -> None:
    scan_id = collecting_scan(store)
    assert collection(client, scan_id) is None  # the run directory is on another host
    RunDir(settings.data_dir, scan_id).create().write_progress({"fetches_done": "x", "fetches_total": 3})
    assert collection(client, scan_id) is None  # unreadable values are left out, not a 500
    RunDir(settings.data_dir, scan_id).write_progress(
        {"resources_collected": 41, "fetches_done": 300, "fetches_total": 300}
    )
    assert store.progress(scan_id, phase="evaluating")
    assert collection(client, scan_id) is None
    assert collection(client, store.create(SUB2).scan_id) is None  # pending
