"""The NVD client against the emulator's fake NVD: matching, rate limit, retries, paging, cache."""

from __future__ import annotations

import dataclasses
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from sqlalchemy import update

from store.models import NvdCacheEntry
from store.clock import utcnow
from store.db import session_scope
from scanner.cve.cache import NvdCache
from scanner.cve.matching import Software, finding_cves
from scanner.cve.nvd import NvdClient, NvdError
from scanner.cve.ratelimit import SlidingWindowLimiter
from scanner.cve.settings import NvdSettings
from tests.fakeazure.harness import Emulator, start_emulator

K8S = Software("kubernetes", "kubernetes", "1.26.6")
PG = Software("postgresql", "postgresql", "11")
MYSQL = Software("oracle", "mysql", "5.7")
PYTHON = Software("python", "python", "3.8")
NODE = Software("nodejs", "node.js", "14")
LOG4J = Software("apache", "log4j", "2.14.1")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@pytest.fixture
def nvd(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    # requests prefers REQUESTS_CA_BUNDLE over Session.verify, as in a scan process
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
    emulator.set_nvd_faults(latency_ms=0, throttle_every=0, throttle_status=403, fail_every=0, down=False,
                            page_size=2000, rate_limit="", keyed_rate_limit="")
    emulator.reset_stats()
    return emulator


def settings_for(emu: Emulator, **overrides: Any) -> NvdSettings:
    base = NvdSettings(enabled=True, url=emu.env["NVD_API_URL"], api_key=None, rate_requests=100,
                       rate_seconds=1.0, cache_ttl_hours=24.0, timeout_seconds=5.0, max_attempts=5,
                       backoff_seconds=0.02, page_size=2000)
    return dataclasses.replace(base, **overrides)


def client_for(emu: Emulator, cache: NvdCache | None = None, **overrides: Any) -> NvdClient:
    settings = settings_for(emu, **overrides)
    session = requests.Session()
    limiter = SlidingWindowLimiter(settings.rate_requests, settings.rate_seconds)
    return NvdClient(settings, limiter, cache, session=session)


def ids(cves: list[dict[str, Any]]) -> set[str]:
    return {c["id"] for c in cves}


def test_exact_version_is_matched_against_ranges(nvd: Emulator) -> None:
    client = client_for(nvd)
    cves = client.cves(K8S.query())
    # CVE-2023-2431 was fixed in 1.26.5: a range that ends before the version does not match
    assert ids(cves) == {"CVE-2023-5528", "CVE-2023-3676", "CVE-2023-3955", "CVE-2024-3177"}
    refs, top, kev = finding_cves(cves)
    assert top == 8.8 and kev is False
    assert refs[0] == {"id": "CVE-2023-3676", "cvss_score": 8.8,
                       "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                       "published": "2023-10-31T00:00:00.000Z"}
    assert refs[-1]["id"] == "CVE-2024-3177"  # lowest score last
    assert "cpeName=cpe%3A2.3%3Aa%3Akubernetes%3Akubernetes%3A1.26.6" in nvd.nvd_requests()[0]["query"]


@pytest.mark.parametrize("software, expected", [
    (PG, {"CVE-2023-5869", "CVE-2023-5868", "CVE-2023-39417", "CVE-2022-2625"}),
    (MYSQL, {"CVE-2023-21980", "CVE-2023-21912", "CVE-2023-22028"}),
    (PYTHON, {"CVE-2023-24329", "CVE-2022-45061", "CVE-2020-10735"}),
    (NODE, {"CVE-2022-32212", "CVE-2023-23918", "CVE-2021-22931", "CVE-2021-44531"}),
])
def test_partial_version_asks_for_its_release_line(nvd: Emulator, software: Software, expected: set[str]) -> None:
    query = software.query()
    assert query["versionStartType"] == "including" and query["versionEndType"] == "excluding"
    assert ids(client_for(nvd).cves(query)) == expected


def test_cisa_kev_marks_exploit_available(nvd: Emulator) -> None:
    refs, top, kev = finding_cves(client_for(nvd).cves(LOG4J.query()))
    assert {r["id"] for r in refs} == {"CVE-2021-44228", "CVE-2021-45046"}
    assert top == 10.0 and kev is True


def test_rate_limit_is_honoured_in_every_window(nvd: Emulator) -> None:
    limit, window = 3, 1.0
    # the fake NVD enforces the same limit NVD-style (403): any excess would show up as a 403
    nvd.set_nvd_faults(rate_limit=f"{limit}/{window}")
    client = client_for(nvd, rate_requests=limit, rate_seconds=window, max_attempts=1)
    queries = [K8S, PG, MYSQL, PYTHON, NODE, LOG4J, Software("kubernetes", "kubernetes", "1.27.0")]
    for software in queries:
        client.cves(software.query())
    log = nvd.nvd_requests()
    assert len(log) == len(queries) and {r["status"] for r in log} == {200}
    stamps = sorted(r["t"] for r in log)
    busiest = max(sum(1 for t in stamps if first <= t < first + window) for first in stamps)
    assert busiest <= limit, f"{busiest} requests within {window}s"


def test_limit_is_shared_through_the_state_file(tmp_path: Path) -> None:
    """Two limiters on one file (two processes of a host) share one window."""
    now = [1000.0]
    state = tmp_path / "nvd-ratelimit.json"
    first = SlidingWindowLimiter(2, 10, state, clock=lambda: now[0])
    second = SlidingWindowLimiter(2, 10, state, clock=lambda: now[0])
    assert first._try_take() == 0 and second._try_take() == 0
    wait = first._try_take()
    assert 10 <= wait <= 10.5
    now[0] += wait
    assert second._try_take() == 0


@pytest.mark.parametrize("status", [403, 429])
def test_throttling_and_server_errors_are_retried(nvd: Emulator, status: int) -> None:
    nvd.set_nvd_faults(throttle_every=2, throttle_status=status, fail_every=3)
    client = client_for(nvd)
    assert ids(client.cves(PG.query())) >= {"CVE-2023-5869"}
    assert ids(client.cves(MYSQL.query())) >= {"CVE-2023-21980"}
    assert ids(client.cves(NODE.query())) >= {"CVE-2022-32212"}
    statuses = [r["status"] for r in nvd.nvd_requests()]
    assert status in statuses and 503 in statuses and statuses.count(200) == 3


def test_nvd_down_gives_a_short_clear_error(nvd: Emulator) -> None:
    nvd.set_nvd_faults(down=True)
    with pytest.raises(NvdError) as caught:
        client_for(nvd, max_attempts=3).cves(PG.query())
    assert str(caught.value) == "NVD unavailable: HTTP 503 (Service Unavailable) (after 3 attempts)"
    assert len(nvd.nvd_requests()) == 3


def test_unreachable_nvd(nvd: Emulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = client_for(nvd, url=f"https://127.0.0.1:{port}/rest/json/cves/2.0", max_attempts=2)
    with pytest.raises(NvdError, match=r"^NVD unavailable: cannot connect \(connection refused\) \(after 2 attempts\)$"):
        client.cves(PG.query())


def test_pages_are_followed(nvd: Emulator) -> None:
    nvd.set_nvd_faults(page_size=1)
    assert len(client_for(nvd).cves(NODE.query())) == 4
    starts = sorted(int(r["query"].split("startIndex=")[1].split("&")[0]) for r in nvd.nvd_requests())
    assert starts == [0, 1, 2, 3]


def test_cache_avoids_requests_until_the_ttl(nvd: Emulator, database_url: str) -> None:
    cache = NvdCache(database_url)
    first = client_for(nvd, cache)
    expected = ids(first.cves(K8S.query()))
    assert first.requests_sent == 1
    second = client_for(nvd, cache)  # another scan, same database
    assert ids(second.cves(K8S.query())) == expected
    assert second.requests_sent == 0 and second.cache_hits == 1
    assert len(nvd.nvd_requests()) == 1
    with session_scope(database_url) as session:
        session.execute(update(NvdCacheEntry).values(fetched_at=utcnow() - timedelta(hours=25)))
    third = client_for(nvd, cache)
    assert ids(third.cves(K8S.query())) == expected and third.requests_sent == 1


def test_api_key_goes_in_the_header_only(nvd: Emulator) -> None:
    client = client_for(nvd, api_key="k-123")
    client.cves(PG.query())
    request = nvd.nvd_requests()[0]
    assert request["api_key"] is True and "k-123" not in request["query"]


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NVD_API_KEY", "NVD_RATE_LIMIT", "NVD_API_URL", "OPENSHIELD_CVE_ENRICHMENT"):
        monkeypatch.delenv(name, raising=False)
    plain = NvdSettings.from_env()
    assert (plain.rate_requests, plain.rate_seconds) == (5, 30.0)
    assert plain.url == "https://services.nvd.nist.gov/rest/json/cves/2.0" and plain.enabled
    monkeypatch.setenv("NVD_API_KEY", "secret")
    assert NvdSettings.from_env().rate_requests == 50
    monkeypatch.setenv("NVD_RATE_LIMIT", "2/0.5")
    assert (NvdSettings.from_env().rate_requests, NvdSettings.from_env().rate_seconds) == (2, 0.5)
    monkeypatch.setenv("NVD_RATE_LIMIT", "fast")
    with pytest.raises(ValueError, match="NVD_RATE_LIMIT"):
        NvdSettings.from_env()
    monkeypatch.delenv("NVD_RATE_LIMIT")
    monkeypatch.setenv("OPENSHIELD_CVE_ENRICHMENT", "0")
    assert NvdSettings.from_env().enabled is False


@pytest.mark.parametrize("raw, version", [
    ("1.26.6", "1.26.6"), ("11", "11"), ("14-lts", "14"), ("~14", "14"), ("v6.0", "6.0"), ("8.0-fpm", "8.0"),
])
def test_reported_versions_are_normalised(raw: str, version: str) -> None:
    software = Software.from_metadata({"software": {"vendor": "nodejs", "product": "node.js", "version": raw}})
    assert software is not None and software.version == version


@pytest.mark.parametrize("software", [
    {"vendor": "nodejs", "product": "node.js", "version": "lts"},
    {"vendor": "a:b", "product": "x", "version": "1"},
    {"vendor": "a", "product": "x*", "version": "1"},
    {"vendor": "a", "product": "x", "version": "1.2.3.4.5"},
    "node 14",
])
def test_unusable_software_is_ignored(software: Any) -> None:
    assert Software.from_metadata({"software": software}) is None
    assert Software.from_metadata({}) is None and Software.from_metadata(None) is None


def test_dotnet_cpe_name_is_accepted() -> None:
    software = Software.from_metadata({"software": {"vendor": "microsoft", "product": ".net", "version": "6.0"}})
    assert software is not None and software.query()["virtualMatchString"] == "cpe:2.3:a:microsoft:.net"


def test_fake_nvd_behaves_like_nvd(nvd: Emulator) -> None:
    from tests.fakeazure.harness import read_env_file

    url = read_env_file(nvd.env_file)["NVD_API_URL"]
    assert url == nvd.url + "/rest/json/cves/2.0"
    bad = requests.get(url, params={"versionStart": "11", "versionStartType": "including"}, timeout=5)
    assert bad.status_code == 404 and "virtualMatchString" in bad.headers["message"] and bad.content == b""
    page = requests.get(url, params={"cpeName": "cpe:2.3:a:postgresql:postgresql:11.21:*:*:*:*:*:*:*",
                                     "resultsPerPage": "1"}, timeout=5).json()
    assert (page["format"], page["version"], page["totalResults"], page["resultsPerPage"]) == ("NVD_CVE", "2.0", 2, 1)
    nvd.set_nvd_faults(rate_limit="2/30")
    statuses = [requests.get(url, params={"cveId": "x"}, timeout=5).status_code for _ in range(3)]
    assert statuses == [200, 200, 403]
    keyed = requests.get(url, headers={"apiKey": "k"}, timeout=5)
    assert keyed.status_code == 200  # keyed clients have their own window (none set here)
