"""The scan's progress reporter: progress.json stays current without a write per rule."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

from scanner.progress import ProgressReporter
from supervisor.rundir import RunDir


class CountingRunDir(RunDir):
    def __init__(self, data_dir: Path, scan_id: str) -> None:
        super().__init__(data_dir, scan_id)
        self.writes: list[dict[str, Any]] = []

    def write_progress(self, data: dict[str, Any]) -> None:
        self.writes.append(data)
        super().write_progress(data)


class Store:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def progress(self, scan_id: str, **fields: Any) -> None:
        self.rows.append(fields)


def test_rule_completions_are_coalesced_and_the_last_one_is_written(tmp_path: Path) -> None:
    scan_id = str(uuid.uuid4())
    run_dir = CountingRunDir(tmp_path, scan_id)
    run_dir.progress_path.parent.mkdir(parents=True, exist_ok=True)
    store = Store()
    reporter = ProgressReporter(store, scan_id, run_dir, out=io.StringIO(), use_bar=False)  # type: ignore[arg-type]
    reporter.phase("evaluating")
    before = len(run_dir.writes)
    for done in range(1, 201):
        reporter.rule_done(done, 200, 70 + done // 10)
    written = run_dir.writes[before:]
    # a burst of 200 completions is not 200 file writes (a write per rule cost more than the rules)
    assert 1 <= len(written) < 200
    # the last completion is always written, to the file and the database row
    assert written[-1]["rules_completed"] == 200
    assert json.loads(run_dir.progress_path.read_text())["rules_completed"] == 200
    assert store.rows[-1]["rules_completed"] == 200
    # a phase change always goes through
    reporter.phase("saving")
    assert run_dir.writes[-1]["phase"] == "saving"
