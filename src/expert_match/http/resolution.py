"""Resolve a handler's dependencies one after another instead of in an anyio task group.

Litestar 2 resolves independent dependencies "concurrently": every batch of two or more (here
``db_session``, ``now`` and ``desk`` for most handlers) becomes a task group with one task per
dependency. Ours are a session factory and two attribute reads, with no I/O to overlap, so the
tasks buy nothing and cost the event loop 0.1 ms per request: 15 % of a ticket read (0.64 ms
against 0.54 ms per read, in process, 3,000 reads). Upstream knows the cost
(litestar-org/litestar#4563, open); until it changes, ``resolve_dependencies_in_order`` puts an
in-order resolver in its place. It keeps Litestar's batches (a dependency still comes after
what it depends on) and its error (the first failure propagates).
"""

from __future__ import annotations

from typing import Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel


async def _resolve_in_order(self: KwargsModel, connection: Any, kwargs: dict[str, Any]) -> DependencyCleanupGroup:
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        # Sorted: the same order in every process (a set of containers hashes by key).
        for dependency in sorted(batch, key=lambda container: container.key):
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def resolve_dependencies_in_order() -> None:
    """Install the in-order resolver (idempotent; every app in the process shares it)."""
    KwargsModel.resolve_dependencies = _resolve_in_order  # type: ignore[method-assign]
