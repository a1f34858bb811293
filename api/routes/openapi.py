"""``GET /api/openapi.json``: the API's OpenAPI 3.1 description, from ``api/openapi.yaml``.

The YAML file beside this package's code is the one source (reviewed with the code, checked
against a live server by tests/test_openapi.py). It lives inside the ``api`` package so that an
installed copy (``pip install .``, the Docker image) carries it; ``docs/openapi.yaml`` is a
symbolic link to it for readers and tools that look in docs/. This route only converts it to
JSON, once per process, and serves it without authentication so that tools can discover the API.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"

bp = Blueprint("openapi", __name__)


@lru_cache(maxsize=1)
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    import yaml

    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    if not isinstance(spec, dict) or "openapi" not in spec:
        raise RuntimeError(f"{path} is not an OpenAPI document")
    return spec


@bp.get("/api/openapi.json")
def openapi() -> Response:
    response = jsonify(load_spec())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
