"""``create_app(settings)``: the only module that wires the application together."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.datastructures import State

from expert_match import __version__
from expert_match.api.auth import AuthController, provide_caller, provide_staff
from expert_match.http.clients import TrustedProxies
from expert_match.http.deps import (DatabaseGate, constant_provider, end_request_transaction, now_provider,
                                    provide_db_session)
from expert_match.api.experts import ExpertController
from expert_match.api.health import HealthController
from expert_match.api.match import MatchController
from expert_match.api.orgs import OrgController
from expert_match.api.people import PeopleController
from expert_match.api.problems import EXCEPTION_HANDLERS
from expert_match.api.skills import SkillController
from expert_match.api.strict_body import strict_json_body
from expert_match.api.tickets import CoordinationController, OfferController, TicketController
from expert_match.http.resolution import resolve_dependencies_in_order
from expert_match.db.engine import Database, create_database
from expert_match.experts.match_index import MatchIndex, poll_in_thread
from expert_match.matching.heap import freeze_survivors
from expert_match.settings import Settings
from expert_match.tickets.desk import Desk
from expert_match.tickets.scheduler import Scheduler
from expert_match.timeutil import Clock, SystemClock
from expert_match.web.routes import static_router, web_router
from expert_match.web.security import security_headers


def create_app(settings: Settings, *, clock: Clock | None = None, database: Database | None = None,
               with_scheduler: bool = False, freeze_heap: bool = False) -> Litestar:
    """Build the Litestar app. Tests pass their own ``clock`` and ``database``. ``freeze_heap``:
    once started, keep what start-up built out of the garbage collector's passes
    (``matching.heap.freeze_survivors``); for a serving process, not for tests, which build
    app after app in one process."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    owns_database = database is None
    resolve_dependencies_in_order()
    db = database or create_database(settings)

    # Read-only sessions: the index reads profiles and never writes.
    the_clock = clock or SystemClock()
    index = MatchIndex(db.reader, clock=the_clock.now, spawn=poll_in_thread)
    desk = Desk.from_settings(settings, index)
    scheduler = Scheduler(db, desk, settings, the_clock.now) if with_scheduler else None

    def dispose_database() -> None:
        # A database handed in by the caller (tests, CLI) is the caller's to close.
        if owns_database:
            db.dispose()

    return Litestar(
        route_handlers=[HealthController, AuthController, OrgController, ExpertController, SkillController, MatchController,
                        TicketController, OfferController, CoordinationController, PeopleController, web_router(),
                        static_router()],
        dependencies={
            "db_session": Provide(provide_db_session),
            "now": Provide(now_provider(the_clock), sync_to_thread=False),
            "match_index": Provide(constant_provider(index), sync_to_thread=False),
            "caller": Provide(provide_caller),
            "staff": Provide(provide_staff, sync_to_thread=False),
            "desk": Provide(constant_provider(desk), sync_to_thread=False),
            "settings": Provide(constant_provider(settings), sync_to_thread=False),
        },
        state=State({"settings": settings, "database": db, "clock": the_clock, "match_index": index,
                     "desk": desk, "db_gate": DatabaseGate.for_database(db),
                     "trusted_proxies": TrustedProxies.of(settings)}),
        on_startup=[index.build, *([scheduler.start] if scheduler else []),
                    *([freeze_survivors] if freeze_heap else [])],
        exception_handlers=EXCEPTION_HANDLERS,
        after_exception=[end_request_transaction],
        before_request=strict_json_body,
        before_send=[security_headers],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="expert-match API",
            version=__version__,
            description="Expert matching and consultation tickets for Da Nang's digital-transformation programme.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        on_shutdown=[*([scheduler.stop] if scheduler else []), index.close, dispose_database],
        debug=settings.debug,
    )


def app_from_environment() -> Litestar:
    """The app from ``EXPERT_MATCH_*`` variables: the factory each ``serve --workers N`` process calls."""
    return create_app(Settings.from_env(), freeze_heap=True)
