"""GET /api/scans/<id>/log and the tail reader behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from store.scans import ScanStore
from store.settings import Settings
from supervisor.rundir import RunDir, tail_lines
from tests.api.conftest import SUB, auth

UNKNOWN = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def write_log(settings: Settings, scan_id: str, text: str) -> Path:
    path = RunDir(settings.data_dir, scan_id).create().log_path
    path.write_text(text)
    return path


def test_log_tail_honours_lines(client: FlaskClient, store: ScanStore, settings: Settings) -> None:
    scan = store.create(SUB)
    write_log(settings, scan.scan_id, "".join(f"line {i}\n" for i in range(300)))
    body = client.get(f"/api/scans/{scan.scan_id}/log", headers=auth()).get_json()
    assert body["scan_id"] == scan.scan_id and body["truncated"] is True
    assert body["lines"] == [f"line {i}" for i in range(100, 300)]  # default 200
    body = client.get(f"/api/scans/{scan.scan_id}/log?lines=3", headers=auth()).get_json()
    assert body == {"scan_id": scan.scan_id, "lines": ["line 297", "line 298", "line 299"], "truncated": True}
    body = client.get(f"/api/scans/{scan.scan_id}/log?lines=5000", headers=auth()).get_json()
    assert len(body["lines"]) == 300 and body["truncated"] is False


def test_a_log_not_written_yet_is_empty(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    body = client.get(f"/api/scans/{scan.scan_id}/log", headers=auth()).get_json()
    assert body == {"scan_id": scan.scan_id, "lines": [], "truncated": False}


def test_log_of_an_unknown_scan_is_404(client: FlaskClient, settings: Settings) -> None:
    write_log(settings, UNKNOWN, "stray\n")
    response = client.get(f"/api/scans/{UNKNOWN}/log", headers=auth())
    assert response.status_code == 404 and response.get_json() == {"error": f"scan {UNKNOWN} not found"}


# --------------------------------------------------------------------------- the tail reader
def test_tail_of_a_huge_file_reads_only_its_end(tmp_path: Path) -> None:
    path = tmp_path / "scan.log"
    with open(path, "wb") as handle:
        handle.truncate(4 * 1024**3)  # 4 GiB hole: reading it all would take far too long
        handle.seek(0, 2)
        handle.write(b"".join(b"event %d\n" % i for i in range(10_000)))
    lines, truncated = tail_lines(path, 5000)
    assert truncated is True
    assert lines == [f"event {i}" for i in range(5000, 10_000)]


@pytest.mark.parametrize(
    ("content", "count", "expected", "truncated"),
    [
        (b"", 5, [], False),
        (b"only\n", 5, ["only"], False),
        (b"no final newline", 5, ["no final newline"], False),
        (b"a\nb\nc", 2, ["b", "c"], True),
        (b"a\nb\nc\n", 3, ["a", "b", "c"], False),
        (b"a\r\nb\r\n", 5, ["a", "b"], False),
        (b"a\n\nb\n", 2, ["", "b"], True),
        (b"bad \xff byte\n", 1, ["bad \ufffd byte"], False),
    ],
)
def test_tail_edge_cases(tmp_path: Path, content: bytes, count: int, expected: list[str], truncated: bool) -> None:
    path = tmp_path / "scan.log"
    path.write_bytes(content)
    assert tail_lines(path, count) == (expected, truncated)


def test_tail_crosses_block_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "scan.log"
    rows = [("x" * (i % 300)) + str(i) for i in range(2000)]
    path.write_text("\n".join(rows) + "\n")
    for count in (1, 7, 999, 2000, 2500):
        lines, truncated = tail_lines(path, count)
        assert lines == rows[-count:] and truncated is (count < 2000)


def test_tail_stops_at_the_byte_cap(tmp_path: Path) -> None:
    path = tmp_path / "scan.log"
    path.write_bytes(b"y" * 300_000 + b"\n" + b"z" * 1000 + b"\n")
    lines, truncated = tail_lines(path, 10, max_bytes=100_000)
    assert lines == ["z" * 1000] and truncated is True
    one_long_line = tmp_path / "long.log"
    one_long_line.write_bytes(b"q" * 300_000)
    lines, truncated = tail_lines(one_long_line, 10, max_bytes=100_000)
    assert lines == ["q" * 100_000] and truncated is True
