"""``POST /_admin/tenant/patch``: change the emulator's tenant while it runs, so a test can scan,
change the estate, and scan again (new and resolved findings).

The body says what changes, as Azure's own writes would leave it:

```json
{"put": [<ARM resource in REST shape>, ...],        # add, or replace the one with that id
 "delete": ["<resource id>", ...],                  # remove it and every child read under it
 "children": {"<child key>": <payload> | null}}     # set (or remove, null) a child payload
```

ARM ids are case-insensitive (a PUT by id replaces whatever case was stored; a DELETE by id
removes it); "Resources - Create Or Update By Id" and "Resources - Delete By Id" in the ARM REST
reference. The result is a new tenant: the server re-indexes it and swaps it in whole, so a
request in flight sees the old tenant or the new one, never half of each.
"""

from __future__ import annotations

from typing import Any


class PatchError(ValueError):
    """The patch is malformed; the message says why (answered as 400)."""


def apply_patch(tenant: dict[str, Any], patch: Any) -> dict[str, Any]:
    """A new tenant with ``patch`` applied (``tenant`` is not modified)."""
    if not isinstance(patch, dict):
        raise PatchError("body must be a JSON object")
    unknown = sorted(set(patch) - {"put", "delete", "children"})
    if unknown:
        raise PatchError(f"unknown key(s) {unknown}; allowed: put, delete, children")
    puts = patch.get("put", [])
    deletes = patch.get("delete", [])
    children = patch.get("children", {})
    if not isinstance(puts, list) or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in puts):
        raise PatchError("put must be an array of resources with a string id")
    if not isinstance(deletes, list) or not all(isinstance(i, str) for i in deletes):
        raise PatchError("delete must be an array of resource ids")
    if not isinstance(children, dict):
        raise PatchError("children must be an object of child key to payload (null removes)")

    resources: dict[str, dict[str, Any]] = {r["id"].lower().rstrip("/"): r for r in tenant["resources"]}
    kids = dict(tenant["children"])
    for rid in deletes:
        key = rid.lower().rstrip("/")
        if key not in resources:
            raise PatchError(f"no resource {rid} to delete")
        del resources[key]
        kids = {k: v for k, v in kids.items() if not k.lower().startswith(key + "/")}
    for resource in puts:
        resources[resource["id"].lower().rstrip("/")] = resource
    for key, payload in children.items():
        if payload is None:
            kids = {k: v for k, v in kids.items() if k.lower().rstrip("/") != key.lower().rstrip("/")}
        else:
            kids[key] = payload
    return {**tenant, "resources": list(resources.values()), "children": kids}
