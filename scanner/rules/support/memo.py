"""Derived views of inventory objects, computed once per evaluating phase instead of once per rule.

Several rules read the same object through the same parser: six NSG rules each put an NSG's
security rules in processing order, nine PostgreSQL/MySQL rules each turn a flexible server's
``configurations`` list into a name -> value map, and every per-resource rule looks up the
failed reads of its type in the inventory's whole ``unreadable`` map. At ``large:10000`` that
is thousands of identical parses per scan. :func:`per_object` remembers such a pure, one-argument function's
result per argument object, but only inside :func:`evaluation_scope`, which the engine opens
for its evaluating phase: there the inventory is read-only by contract, so a result cannot go
stale. Outside a scope (a unit test calling a rule directly, then changing its fixture) every
call computes afresh.

The cache is keyed by object identity and keeps the object itself, so an id cannot be reused
by another object while the scope lives; results are shared between callers, so a memoised
function must return something its callers do not change (a tuple, or a dict they only read).
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar

R = TypeVar("R")

_cache: ContextVar[dict[tuple[int, int], tuple[Any, Any]] | None] = ContextVar("derived_views", default=None)


@contextmanager
def evaluation_scope() -> Iterator[None]:
    """Remember :func:`per_object` results until the block ends (then forget them all)."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def per_object(func: Callable[[Any], R]) -> Callable[[Any], R]:
    """Decorate a pure function of one inventory object so that, inside an evaluation scope,
    it runs once per object."""
    func_key = id(func)

    @functools.wraps(func)
    def remembered(obj: Any) -> R:
        cache = _cache.get()
        if cache is None:
            return func(obj)
        key = (func_key, id(obj))
        hit = cache.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]  # type: ignore[no-any-return]
        value = func(obj)
        cache[key] = (obj, value)
        return value

    return remembered
