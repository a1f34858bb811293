"""CIS v6.0.0 end to end: a real ``python -m scanner.run`` over the demo tenant of the emulator,
then ``/api/compliance/cis-v6`` and the findings filter over what that scan stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from flask.testing import FlaskClient

from store.settings import Settings
from tests.api.conftest import auth
from tests.conftest import REPO, scan_env
from tests.fakeazure.harness import Emulator, start_emulator

# v6.0.0 9.3.8 (anonymous blob access) and 9.3.4 (secure transfer); the demo tenant has a
# violating and a compliant storage account for the first
RULES = ("AZ-STOR-001", "AZ-STOR-002")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


def test_a_real_scan_answers_cis_v6(emulator: Emulator, settings: Settings, client: FlaskClient) -> None:
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    env = scan_env(settings.database_url, Path(settings.data_dir), emulator.env)
    result = subprocess.run([sys.executable, "-m", "scanner.run", "--subscription", emulator.env["AZURE_SUBSCRIPTION_ID"],
                             "--rules", ",".join(RULES)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("scan "), result.stderr
    scan_id = result.stdout.split()[1]

    response = client.get(f"/api/compliance/cis-v6?scan_id={scan_id}", headers=auth("reader"))
    assert response.status_code == 200
    controls = {c["control"]: c for c in response.get_json()["controls"]}
    anonymous = controls["9.3.8"]
    assert anonymous["rules"] == ["AZ-STOR-001"] and anonymous["status"] == "failed"
    assert anonymous["failed"] >= 1 and anonymous["passed"] >= 1
    assert controls["9.3.4"]["rules"] == ["AZ-STOR-002"] and controls["9.3.4"]["status"] != "not_evaluated"
    # a control whose rules this scan did not run is not evaluated, never passed
    assert controls["7.1"]["status"] == "not_evaluated"

    response = client.get(f"/api/findings?scan_id={scan_id}&framework=cis-v6&control=9.3.8", headers=auth("reader"))
    findings = response.get_json()["findings"]
    assert findings and {f["rule_id"] for f in findings} == {"AZ-STOR-001"}
    # the stored finding carries both CIS numberings of the same recommendation
    assert all(f["frameworks"]["CIS6"] == ["9.3.8"] and f["frameworks"]["CIS"] == ["3.7"] for f in findings)
