"""Compliance per framework control: the tally lives in :mod:`scanner.compliance` (the HTML
report of a standalone scan needs it too); the API imports it from here as before."""

from __future__ import annotations

from scanner.compliance import ControlTally, natural_key, tally_controls

__all__ = ["ControlTally", "natural_key", "tally_controls"]
