"""``bin/openshield scans list|show|cancel`` and error handling, on records made directly in the database.

No scan processes here: each record is put in the state a test needs through ``ScanStore``,
and the command's output (text and ``--json``) and exit code are checked against it.
"""

from __future__ import annotations

import json
import os
import uuid

from api.views import scan_detail_view
from store.clock import utcnow
from store.supervisors import beat
from tests.cli.conftest import Cli

SUB = "11111111-2222-4333-8444-555555555555"


def _sub() -> str:
    return str(uuid.uuid4())


def test_list_text_and_json_with_filters(cli: Cli) -> None:
    done = cli.store.create(_sub())
    cli.store.cancel_queued(done.scan_id)
    queued = cli.store.create(SUB)

    result = cli.run("scans", "list", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["count"] == 2 and [s["scan_id"] for s in listing["scans"]] == [queued.scan_id, done.scan_id]
    assert listing["scans"][0]["status"] == "pending" and listing["scans"][1]["status"] == "cancelled"

    only = json.loads(cli.run("scans", "list", "--status", "cancelled", "--json").stdout)
    assert [s["scan_id"] for s in only["scans"]] == [done.scan_id]
    by_sub = json.loads(cli.run("scans", "list", "--subscription", SUB.upper(), "--json").stdout)
    assert [s["scan_id"] for s in by_sub["scans"]] == [queued.scan_id]

    text = cli.run("scans", "list")
    assert text.returncode == 0
    header, *rows = text.stdout.splitlines()
    assert header.split()[:3] == ["SCAN_ID", "SUBSCRIPTION", "STATUS"]
    assert rows[0].startswith(queued.scan_id) and "pending" in rows[0] and "queued" in rows[0]
    assert "cancelled on request" in rows[1]

    bad = cli.run("scans", "list", "--status", "done")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_show_is_the_api_object(cli: Cli) -> None:
    scan = cli.store.create(SUB, rules=["AZ-STOR-001"])
    result = cli.run("scans", "show", scan.scan_id.upper(), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == scan_detail_view(*cli.store.detail(scan.scan_id))

    text = cli.run("scans", "show", scan.scan_id)
    assert text.returncode == 0
    fields = dict(line.split(None, 1) for line in text.stdout.splitlines() if line.strip())
    assert fields["status"] == "pending" and fields["rules"] == "AZ-STOR-001" and fields["pid"] == "-"

    missing = cli.run("scans", "show", str(uuid.uuid4()))
    assert missing.returncode == 5 and "not found" in missing.stderr
    malformed = cli.run("scans", "show", "not-a-uuid")
    assert malformed.returncode == 2 and "not a UUID" in malformed.stderr


def test_cancel_queued_launched_terminal_and_unknown(cli: Cli) -> None:
    queued = cli.store.create(_sub())
    result = cli.run("scans", "cancel", queued.scan_id, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "cancelled"
    after = cli.store.get(queued.scan_id)
    assert after is not None and after.status == "cancelled" and after.error_message == "cancelled on request"

    # launched on some host: only flagged, the supervisor of that host stops it
    launched = cli.store.create(_sub())
    assert cli.store.reserve_launch(launched.scan_id, host="elsewhere", cap=5)
    result = cli.run("scans", "cancel", launched.scan_id)
    assert result.returncode == 0, result.stderr
    assert "cancellation requested" in result.stdout
    flagged = cli.store.get(launched.scan_id)
    assert flagged is not None and flagged.status == "pending" and flagged.cancel_requested

    again = cli.run("scans", "cancel", queued.scan_id, "--json")
    assert again.returncode == 3 and "already cancelled" in again.stderr
    assert json.loads(again.stdout) == {"error": "scan is already cancelled", "scan_id": queued.scan_id,
                                        "status": "cancelled"}
    assert cli.run("scans", "cancel", str(uuid.uuid4())).returncode == 5


def test_trigger_refuses_a_subscription_with_an_active_scan(cli: Cli) -> None:
    active = cli.store.create(SUB)
    result = cli.run("scans", "trigger", "--subscription", SUB, "--json")
    assert result.returncode == 3
    assert active.scan_id in result.stderr
    assert json.loads(result.stdout)["scan_id"] == active.scan_id
    assert cli.store.list_scans()[0] == 1  # nothing new was recorded


def test_trigger_usage_errors(cli: Cli) -> None:
    no_sub = cli.run("scans", "trigger")
    assert no_sub.returncode == 2 and "--subscription is required" in no_sub.stderr
    unknown = cli.run("scans", "trigger", "--subscription", SUB, "--rules", "AZ-STOR-001,AZ-NOPE-999")
    assert unknown.returncode == 2 and "AZ-NOPE-999" in unknown.stderr
    assert cli.store.list_scans()[0] == 0


def test_logs_of_a_scan_on_another_host_and_unknown(cli: Cli) -> None:
    scan = cli.store.create(_sub())
    assert cli.store.reserve_launch(scan.scan_id, host="web-2", cap=5)
    result = cli.run("scans", "logs", scan.scan_id)
    assert result.returncode == 1 and "on host web-2" in result.stderr
    assert cli.run("scans", "logs", str(uuid.uuid4())).returncode == 5
    both = cli.run("scans", "logs", scan.scan_id, "-f", "--json")
    assert both.returncode == 2


def test_kill_refuses_what_is_not_a_local_running_scan(cli: Cli) -> None:
    remote = cli.store.create(_sub())
    assert cli.store.reserve_launch(remote.scan_id, host="web-2", cap=5)
    result = cli.run("scans", "kill", remote.scan_id)
    assert result.returncode == 3 and "on host web-2" in result.stderr

    queued = cli.store.create(_sub())
    result = cli.run("scans", "kill", queued.scan_id, "--json")
    assert result.returncode == 3 and "queued" in result.stderr

    cli.store.cancel(queued.scan_id, "cancelled on request")
    result = cli.run("scans", "kill", queued.scan_id)
    assert result.returncode == 3 and "already cancelled" in result.stderr

    assert cli.run("scans", "kill", str(uuid.uuid4())).returncode == 5
    assert cli.run("scans", "kill", "12ab").returncode == 2


def test_database_errors_are_one_line(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cli.extra["DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    result = cli.run("scans", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: database error:") and "db upgrade" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_malformed_setting_is_a_usage_error(cli: Cli) -> None:
    cli.extra["OPENSHIELD_MAX_CONCURRENT_SCANS"] = "many"
    for command in (["scans", "ps"], ["supervisor", "status"]):
        result = cli.run(*command)
        assert result.returncode == 2, result.stderr
        assert result.stderr == "error: configuration: OPENSHIELD_MAX_CONCURRENT_SCANS must be an integer, got 'many'\n"


def test_supervisor_status_shows_slots_still_held_by_ended_runs(cli: Cli) -> None:
    """A cancelled launch whose process has not exited yet holds its slot (issue 13)."""
    beat(cli.store.url, host="web-9", pid=os.getpid(), started_at=utcnow())
    launched = cli.store.create(_sub())
    assert cli.store.reserve_launch(launched.scan_id, host="web-9", cap=2)
    assert cli.store.cancel(launched.scan_id, "cancelled on request")
    result = cli.run("supervisor", "status", "--json")
    web9 = next(s for s in json.loads(result.stdout)["supervisors"] if s["host"] == "web-9")
    assert (web9["active_scans"], web9["slots_held"]) == (0, 1)
    assert cli.store.release_slot(launched.scan_id, "web-9")
    web9 = next(s for s in json.loads(cli.run("supervisor", "status", "--json").stdout)["supervisors"]
                if s["host"] == "web-9")
    assert web9["slots_held"] == 0
    assert "SLOTS_HELD" in cli.run("supervisor", "status").stdout.upper()
