"""The kinds of supervised run: what a monitor starts, where its files live, what it is called.

A scan and a CVE re-enrichment are two kinds of one supervised run: the same launcher (one
slot cap per host), the same monitor, the same watch loop and the same in-process scaffold
(:mod:`supervisor.worker`). Only this table says how they differ. Kept free of heavy imports:
the monitor reads it and must start in milliseconds.
"""

from __future__ import annotations


class RunKind:
    """(A plain class: a dataclass would cost the monitor's start-up an import.)"""

    def __init__(self, name: str, module: str, noun: str, subdir: str | None, log_name: str) -> None:
        self.name = name  # "scan" | "enrich": the monitor's --kind, the launcher's argument
        self.module = module  # what the monitor runs: python -m <module> <scan_id>
        self.noun = noun  # how messages name it: "scan process killed by SIGKILL"
        self.subdir = subdir  # run directory below <data>/scans/<scan_id>/, None for the scan's own
        self.log_name = log_name

    def __repr__(self) -> str:
        return f"RunKind({self.name})"


SCAN = RunKind("scan", "scanner.run", "scan", None, "scan.log")
ENRICH = RunKind("enrich", "scanner.enrich", "enrichment", "enrich", "enrich.log")
KINDS: dict[str, RunKind] = {kind.name: kind for kind in (SCAN, ENRICH)}
