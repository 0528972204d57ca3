"""Dependencies resolved in order (``http.resolution``), without Litestar's per-batch task groups."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar._kwargs import kwargs_model
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

from expert_match.http import resolution


def build_app(calls: list[str], *, failing: str | None = None) -> Litestar:
    async def first() -> int:
        calls.append("first")
        if failing == "first":
            raise NotAuthorizedException("first said no")
        return 1

    def second() -> int:
        calls.append("second")
        return 2

    async def third(first: NamedDependency[int], second: NamedDependency[int]) -> int:
        calls.append("third")
        return first + second

    @get("/sum", sync_to_thread=False)
    def total(first: NamedDependency[int], second: NamedDependency[int],
              third: NamedDependency[int]) -> dict[str, int]:
        return {"first": first, "second": second, "third": third}

    return Litestar([total], dependencies={"first": Provide(first), "second": Provide(second, sync_to_thread=False),
                                           "third": Provide(third)})


@pytest.fixture
def no_task_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Litestar's own resolver opens a task group for a batch of two dependencies: make that fail."""
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a task group was opened to resolve dependencies")
    monkeypatch.setattr(kwargs_model, "create_task_group", refuse)


def test_independent_dependencies_resolve_without_a_task_group(no_task_groups: None) -> None:
    resolution.resolve_dependencies_in_order()
    calls: list[str] = []
    with TestClient(build_app(calls)) as client:
        response = client.get("/sum")
    assert response.status_code == 200, response.text
    assert response.json() == {"first": 1, "second": 2, "third": 3}
    # Batches kept: "third" needs the other two and comes last; within a batch, by name.
    assert calls == ["first", "second", "third"]


def test_the_first_failing_dependency_decides_the_answer(no_task_groups: None) -> None:
    resolution.resolve_dependencies_in_order()
    calls: list[str] = []
    with TestClient(build_app(calls, failing="first")) as client:
        response = client.get("/sum")
    assert response.status_code == 401
    assert "first said no" in response.text
    assert calls == ["first"]  # nothing after the failure runs


def test_the_application_installs_the_in_order_resolver(anon_client: TestClient) -> None:
    assert kwargs_model.KwargsModel.resolve_dependencies is resolution._resolve_in_order
    assert anon_client.get("/api/v1/tickets/1").status_code == 401  # caller after db_session, now
