"""The ``expert-match`` command: serve, migrate, load-fixtures, import-experts, users, rank, bench, eval."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from expert_match.db.engine import Database, create_database
from expert_match.db.migrate import current_revision, head_revision, upgrade
from expert_match.errors import DomainError, ImportFailed
from expert_match.matching.heap import limit_malloc_arenas
from expert_match.settings import Settings, SettingsError
from expert_match.timeutil import SystemClock


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command: Callable[[argparse.Namespace, Settings], int] = args.command
    return command(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="expert-match",
        description="Expert matching and consultation tickets for Da Nang's digital-transformation programme. "
        "The database comes from EXPERT_MATCH_DATABASE_URL (default: SQLite under var/).",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the web service")
    serve.add_argument("--host", help="address to bind (default: EXPERT_MATCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: EXPERT_MATCH_PORT or 8000)")
    serve.add_argument("--with-scheduler", action="store_true",
                       help="also run the scheduler in the server process (one-machine setups)")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes (default 1; 2 on a 2-core machine: see the README, Running in production)")
    serve.add_argument("--access-log", action="store_true",
                       help="log every request (off by default: the reverse proxy logs requests, and it costs CPU)")
    serve.set_defaults(command=cmd_serve)
    scheduler = sub.add_parser("scheduler", help="expire offers, send next rounds, auto-close, flag breaches")
    scheduler.add_argument("--once", action="store_true", help="run one pass and exit (cron)")
    scheduler.add_argument("--interval", type=float, default=30.0, help="seconds between passes (default 30)")
    scheduler.set_defaults(command=cmd_scheduler)
    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(command=cmd_migrate)
    backup = sub.add_parser("backup", help="write a consistent copy of the database to FILE (SQLite online backup; "
                                           "PostgreSQL pg_dump)")
    backup.add_argument("file", type=Path)
    backup.set_defaults(command=cmd_backup)
    restore = sub.add_parser("restore", help="replace the database with the backup in FILE (stop the service first)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--yes", action="store_true", help="replace a database that already holds data")
    restore.set_defaults(command=cmd_restore)
    load = sub.add_parser("load-fixtures", help="load the Da Nang demo data (idempotent)")
    load.set_defaults(command=cmd_load_fixtures)
    imp = sub.add_parser("import-experts", help="import experts from a CSV or JSON file (all or nothing)")
    imp.add_argument("file", type=Path, help="a .csv or .json file (format: README, 'Importing experts')")
    imp.add_argument("--skip-existing", action="store_true", help="skip e-mails already registered")
    imp.set_defaults(command=cmd_import_experts)
    users = sub.add_parser("users", help="user accounts and API tokens")
    users_sub = users.add_subparsers(required=True, metavar="ACTION")
    create = users_sub.add_parser("create", help="create a user; with --token, print a new API token on stdout")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=["requester", "expert", "coordinator", "admin"])
    create.add_argument("--org", type=int, help="org id (requesters file for their org)")
    create.add_argument("--name", help="display name (default: the part of the e-mail before @)")
    create.add_argument("--password-stdin", action="store_true", help="read a password from the first stdin line")
    create.add_argument("--token", action="store_true", help="also issue an API token and print it on stdout")
    create.set_defaults(command=cmd_users_create)
    token = users_sub.add_parser("token", help="issue a new API token for an existing user (printed on stdout)")
    token.add_argument("--email", required=True)
    token.add_argument("--name", default="cli", help="a label for the token")
    token.set_defaults(command=cmd_users_token)
    password = users_sub.add_parser("password", help="set a user's password: read from stdin, or a new random one "
                                                     "printed on stdout")
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    password.set_defaults(command=cmd_users_password)
    rank = sub.add_parser("rank", help="rank the registered experts for a problem text (debugging)")
    rank.add_argument("text", help="the problem, as a requester would write it")
    rank.add_argument("-k", type=int, default=10, help="how many experts (1-50, default 10)")
    rank.add_argument("--org", type=int, help="requester org id (its conflicts of interest apply)")
    rank.add_argument("--district", help="district code or name of the problem")
    rank.add_argument("--onsite", action="store_true", help="on-site work is needed")
    rank.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    rank.set_defaults(command=cmd_rank)
    bench = sub.add_parser("bench", help="benchmarks (print figures; take minutes)")
    bench_sub = bench.add_subparsers(required=True, metavar="WHAT")
    bench_assign = bench_sub.add_parser("assign", help="global assignment vs greedy vs the exact optimum")
    bench_assign.add_argument("--tickets", type=int, default=1000)
    bench_assign.add_argument("--experts", type=int, default=13000)
    bench_assign.add_argument("--candidates", type=int, default=20, help="top-k experts per ticket")
    bench_assign.add_argument("--json", action="store_true")
    bench_assign.set_defaults(command=cmd_bench_assign)
    bench_matching = bench_sub.add_parser("matching", help="index build, query latency, vs SQLite FTS5 and tantivy")
    bench_matching.add_argument("--experts", type=int, required=True, help="synthetic experts (e.g. 13000, 100000)")
    bench_matching.add_argument("--queries", type=int, default=200, help="synthetic tickets to time")
    bench_matching.add_argument("--json", action="store_true")
    bench_matching.set_defaults(command=cmd_bench_matching)
    bench_api = bench_sub.add_parser("api", help="the server under load: req/s, p50, p99, errors per operation")
    add_load_options(bench_api)
    bench_api.add_argument("--seconds", type=float, default=10.0, help="measured seconds per operation")
    bench_api.add_argument("--json", action="store_true")
    bench_api.set_defaults(command=cmd_bench_api)
    bench_soak = bench_sub.add_parser("soak", help="mixed load for minutes: memory per round, errors")
    bench_soak.add_argument("--minutes", type=float, default=10.0)
    bench_soak.add_argument("--round-seconds", type=float, default=30.0, help="memory is read after every round")
    bench_soak.add_argument("--warmup-resolved", type=int, default=15_000,
                            help="unmeasured rounds first, until this many tickets are resolved (the similar-ticket "
                                 "index holds its 10,000 and has refitted once; 0: no warm-up)")
    add_load_options(bench_soak)
    bench_soak.add_argument("--json", action="store_true")
    bench_soak.set_defaults(command=cmd_bench_soak)
    evaluate = sub.add_parser("eval", help="evaluate the matcher offline")
    eval_sub = evaluate.add_subparsers(required=True, metavar="DATASET")
    gold = eval_sub.add_parser("goldstandard", help="reviewer-expertise gold standard (Stelmakh et al. 2023)")
    gold.add_argument("folder", type=Path, help="folder shaped like shared/datasets/goldstandard-dev")
    gold.add_argument("--json", action="store_true", help="print the figures as JSON")
    gold.add_argument("--predictions-out", type=Path, help='write {"d_20_V": {researcher: {paper: score}}}')
    gold.add_argument("--nested-cv", action="store_true",
                      help="also run the configuration grid and nested leave-one-researcher-out CV (minutes)")
    gold.set_defaults(command=cmd_eval_goldstandard)
    ranking = eval_sub.add_parser("ranking", help="per-problem ranking quality on a labelled set, by input form")
    ranking.add_argument("file", type=Path, help="JSON set, e.g. src/expert_match/fixtures/eval/ranking.json")
    ranking.add_argument("--json", action="store_true", help="print the figures as JSON")
    ranking.add_argument("--scores-out", type=Path, help="write {query_id: {expert_id: score}}")
    ranking.set_defaults(command=cmd_eval_ranking)
    return parser


def progress(message: str) -> None:
    """Long commands report progress on stderr; stdout holds only the result."""
    print(message, file=sys.stderr, flush=True)


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """What ``bench api`` and ``bench soak`` share: the database, the data and the server."""
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("EXPERT_MATCH_BENCH_POSTGRES_URL",
                                                                "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="server where a scratch database is created and dropped "
                             "(default: EXPERT_MATCH_BENCH_POSTGRES_URL or the local server)")
    parser.add_argument("--experts", type=int, default=13000, help="synthetic experts besides the demo data")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server processes (2 for 2 cores)")


def cmd_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    database = create_database(settings)
    try:
        before = current_revision(database)
        upgrade(database)
        after = current_revision(database)
    finally:
        database.dispose()
    print(f"database at revision {after}" + (" (unchanged)" if before == after else f" (was {before})"))
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.db.backup import backup

    def work(database: Database) -> int:
        result = backup(database, args.file)
        print(f"backed up the {result.engine} database to {result.path} ({result.size_bytes:,} bytes)")
        return 0

    return with_migrated_database(settings, work)


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.db.backup import integrity_problems, restore

    database = create_database(settings)
    try:
        restore(database, args.file, overwrite=args.yes)
        problems = integrity_problems(database)
        revision = current_revision(database)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    if problems:
        print(f"error: the restored database fails its integrity check: {problems[:5]}", file=sys.stderr)
        return 1
    print(f"restored {args.file} (schema revision {revision}); run `expert-match migrate` if the backup is older")
    return 0


def cmd_load_fixtures(_args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.fixtures.loader import load_fixtures

    def work(database: Database) -> int:
        with database.writer.begin() as session:
            report = load_fixtures(session, SystemClock().now())
        for kind, created in report.created.items():
            print(f"{kind:8} created {created:4}, already present {report.existing[kind]:4}")
        return 0

    return with_migrated_database(settings, work)


def cmd_import_experts(args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.experts.importer import import_experts

    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2

    def work(database: Database) -> int:
        try:
            with database.writer.begin() as session:
                report = import_experts(session, args.file, SystemClock().now(), skip_existing=args.skip_existing)
        except ImportFailed as exc:
            print(f"import refused, nothing was saved ({len(exc.problems)} problems):", file=sys.stderr)
            for where, field, message in exc.problems:
                print(f"  {where}: {field}: {message}", file=sys.stderr)
            return 1
        print(f"imported {report.created} experts, skipped {report.skipped} already registered")
        for text, count in sorted(report.unrecognised_skills.items()):
            print(f"  kept as free text (not in the skill taxonomy): {text!r} x{count}")
        return 0

    return with_migrated_database(settings, work)


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.auth import service
    from expert_match.orgs.models import Role

    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None

    def work(database: Database) -> int:
        now = SystemClock().now()
        with database.writer.begin() as session:
            user = service.create_account(session, email=args.email, role=Role(args.role), org_id=args.org,
                                          display_name=args.name, password=password, now=now)
            secret = service.issue_token(session, user, "cli", now, settings.token_days)[1] if args.token else None
            user_id = user.id
        print(f"created {args.role} {args.email} (user {user_id})", file=sys.stderr)
        if secret:
            print(secret)  # stdout holds only the token, for scripts: TOKEN=$(expert-match users create ...)
        return 0

    return with_migrated_database(settings, work)


def cmd_users_token(args: argparse.Namespace, settings: Settings) -> int:
    from expert_match.auth import service

    def work(database: Database) -> int:
        now = SystemClock().now()
        with database.writer.begin() as session:
            user = service.user_by_email(session, args.email)
            token, secret = service.issue_token(session, user, args.name, now, settings.token_days)
            expires = token.expires_at
        print(f"token for {args.email}, valid until {expires:%Y-%m-%d}", file=sys.stderr)
        print(secret)
        return 0

    return with_migrated_database(settings, work)


def cmd_users_password(args: argparse.Namespace, settings: Settings) -> int:
    import secrets

    from expert_match.auth import service

    chosen = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else secrets.token_urlsafe(12)

    def work(database: Database) -> int:
        with database.writer.begin() as session:
            service.set_password(session, args.email, chosen)
        print(f"password set for {args.email}; their browser sessions were ended", file=sys.stderr)
        if not args.password_stdin:
            print(chosen)  # the generated password, for scripts: PASSWORD=$(expert-match users password ...)
        return 0

    return with_migrated_database(settings, work)


def cmd_rank(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from expert_match.experts.match_index import MatchIndex
    from expert_match.experts.match_schemas import MatchRequest
    from expert_match.experts.match_service import match
    from expert_match.tickets.service import expert_loads

    try:
        request = msgspec.convert({"text": args.text, "k": args.k, "org_id": args.org, "district": args.district,
                                   "onsite": args.onsite}, MatchRequest)
    except msgspec.ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def work(database: Database) -> int:
        index = MatchIndex(database.reader)
        index.build()
        with database.reader() as session:
            result = match(session, index, request, SystemClock().now(), loads=expert_loads(session))
        if args.json:
            print(msgspec.json.encode(result).decode())
        else:
            print(format_matches(result))
        return 0

    return with_migrated_database(settings, work)


def format_matches(result: object) -> str:
    matches = getattr(result, "matches")
    if not matches:
        return f"no eligible expert matches ({getattr(result, 'experts_considered')} experts considered)"
    lines = []
    for found in matches:
        parts = found.parts
        lines.append(f"{found.rank:2}. {found.score:.4f}  {found.expert.display_name} (#{found.expert.id}) "
                     f"- {found.expert.headline}")
        lines.append(f"      text {parts.text:.4f} x availability {parts.availability:.2f} x "
                     f"(1 + district {parts.district:+.2f} + feedback {parts.feedback:+.2f})")
        if found.matched_skills:
            lines.append(f"      skills: {', '.join(found.matched_skills)}")
        if found.matched_terms:
            lines.append("      terms: " + ", ".join(f"{t.term} ({t.weight:.3f})" for t in found.matched_terms))
    return "\n".join(lines)


def cmd_bench_assign(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from expert_match.evaluation.bench import bench_assign

    if not (1 <= args.tickets <= 100_000 and 1 <= args.experts <= 1_000_000 and 1 <= args.candidates <= 200):
        print("error: --tickets 1..100000, --experts 1..1000000, --candidates 1..200", file=sys.stderr)
        return 2
    figures = bench_assign(args.tickets, args.experts, args.candidates, say=progress)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['tickets']} tickets x {figures['experts']} experts, top {figures['candidates_per_ticket']}"
              f" candidates each: global assignment {figures['seconds']} s, total {figures['total']}"
              f" = {figures['ratio_to_optimum']:.4%} of the optimum {figures['optimum']}"
              f" (integer program, {figures['optimum_seconds']} s); one-by-one greedy {figures['greedy']}"
              f" = {figures['greedy_ratio_to_optimum']:.4%}")
    return 0


def cmd_eval_ranking(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from expert_match.evaluation.ranking import evaluate, format_report

    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        report, scores = evaluate(args.file)
    except (KeyError, TypeError, ValueError) as exc:
        print(f"error: {args.file} is not a ranking set ({exc!r}); see `expert-match eval ranking --help`",
              file=sys.stderr)
        return 2
    if args.scores_out:
        args.scores_out.write_text(json.dumps(scores, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({"overall": report["overall"], "forms": report["forms"]}) if args.json else format_report(report))
    return 0


def cmd_bench_api(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from sqlalchemy.exc import OperationalError

    from expert_match.loadtest.runner import ApiBenchConfig, bench_api, format_report

    if args.experts < 0 or args.connections < 1 or args.seconds <= 0 or not 1 <= args.workers <= 32:
        print("error: --experts >= 0, --connections >= 1, --seconds > 0 and 1 <= --workers <= 32", file=sys.stderr)
        return 2
    config = ApiBenchConfig(database=args.database, postgres_url=args.postgres_url, experts=args.experts,
                            connections=args.connections, seconds=args.seconds, workers=args.workers)
    try:
        result = bench_api(config, say=progress)
    except OperationalError as exc:
        print(f"error: cannot reach the database for the bench ({args.postgres_url}): {exc.orig}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else format_report(result))
    return 0


def cmd_bench_soak(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from sqlalchemy.exc import OperationalError

    from expert_match.loadtest.runner import ApiBenchConfig
    from expert_match.loadtest.soak import SoakConfig, format_soak, soak

    if (args.minutes <= 0 or args.round_seconds <= 0 or args.connections < 1 or not 1 <= args.workers <= 32
            or args.warmup_resolved < 0):
        print("error: --minutes and --round-seconds > 0, --connections >= 1, 1 <= --workers <= 32, "
              "--warmup-resolved >= 0", file=sys.stderr)
        return 2
    bench = ApiBenchConfig(database=args.database, postgres_url=args.postgres_url, experts=args.experts,
                           connections=args.connections, workers=args.workers)
    try:
        result = soak(SoakConfig(bench=bench, minutes=args.minutes, round_s=args.round_seconds,
                                 warmup_resolved=args.warmup_resolved), say=progress)
    except OperationalError as exc:
        print(f"error: cannot reach the database for the soak ({args.postgres_url}): {exc.orig}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else format_soak(result))
    return 1 if result["errors"] or result["memory_flat"] is False else 0


def cmd_bench_matching(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from expert_match.evaluation.bench import bench_matching

    if not (1 <= args.experts <= 2_000_000 and 1 <= args.queries <= 100_000):
        print("error: --experts 1..2000000, --queries 1..100000", file=sys.stderr)
        return 2
    figures = bench_matching(args.experts, args.queries, say=progress)
    if args.json:
        print(json.dumps(figures))
    else:
        print("\n".join(f"{key:16} {value}" for key, value in figures.items()))
    return 0


def cmd_eval_goldstandard(args: argparse.Namespace, _settings: Settings) -> int:
    import json

    from expert_match.evaluation.report import format_report, goldstandard_report

    if not (args.folder / "data" / "evaluations.csv").is_file():
        print(f"error: {args.folder} has no data/evaluations.csv", file=sys.stderr)
        return 2
    report, predictions = goldstandard_report(
        args.folder, nested=args.nested_cv, progress=lambda msg: print(msg, file=sys.stderr, flush=True)
    )
    if args.predictions_out:
        args.predictions_out.write_text(json.dumps(predictions, indent=1, sort_keys=True), encoding="utf-8")
    if args.json:
        keys = ["loss", "ci", "easy_acc", "hard_acc"]
        print(json.dumps({**{k: report[k] for k in keys}, **{k: v for k, v in report.items() if k not in keys}}))
    else:
        print(format_report(report))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from expert_match.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    if not 1 <= args.workers <= 32:
        print("error: --workers must be between 1 and 32", file=sys.stderr)
        return 2
    if args.workers > 1 and args.with_scheduler:
        print("error: with several workers, run the scheduler as its own process (`expert-match scheduler`)",
              file=sys.stderr)
        return 2
    # Before any thread starts, and inherited by the workers granian forks.
    limit_malloc_arenas()
    database = create_database(settings)
    try:
        ready = at_head(database)
        warn_about_upkeep(database)
    finally:
        database.dispose()
    if not ready:
        print("error: the database schema is not up to date; run `expert-match migrate` first", file=sys.stderr)
        return 2
    base = f"http://{host}:{port}"
    print(f"expert-match on {base}\n  API docs:     {base}/schema\n  Swagger UI:   {base}/schema/swagger\n"
          f"  OpenAPI JSON: {base}/schema/openapi.json\n  Experts:      {base}/api/v1/experts", flush=True)
    if args.workers == 1:
        app = create_app(settings, with_scheduler=args.with_scheduler, freeze_heap=True)
        # The client behind a proxy is the app's to work out (EXPERT_MATCH_TRUSTED_PROXIES);
        # uvicorn's own handling would believe any X-Forwarded-For from 127.0.0.1.
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=args.access_log,
                    proxy_headers=False)
    else:
        serve_workers(args.workers, host, port, settings.log_level.lower(), access_log=args.access_log)
    return 0


def serve_workers(workers: int, host: str, port: int, log_level: str, *, access_log: bool) -> None:
    """Several worker processes under granian, each building its app (and index) from the same
    environment. Not uvicorn's: its workers share one listening socket and, with keep-alive
    clients, one worker took all 32 connections while the other stayed idle (measured with
    `bench api`); granian spread them over both."""
    from granian import Granian

    Granian("expert_match.app:app_from_environment", factory=True, interface="asgi", workers=workers,
            address=host, port=port, websockets=False, log_level=log_level, log_access=access_log,
            respawn_failed_workers=True).serve()


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from expert_match.experts.match_index import MatchIndex
    from expert_match.notify.outbox import deliver_due
    from expert_match.tickets.desk import Desk
    from expert_match.tickets.scheduler import housekeeping, run_once

    limit_malloc_arenas()

    def work(database: Database) -> int:
        warn_about_upkeep(database)
        index = MatchIndex(database.reader)
        desk = Desk.from_settings(settings, index)
        clock = SystemClock()
        try:
            while True:
                report = run_once(database, desk, clock.now())
                housekeeping(database, clock.now(), settings)
                delivered = deliver_due(database, settings, clock.now())
                print(f"{clock.now():%Y-%m-%d %H:%M:%S} offers expired {report.offers_expired}, "
                      f"tickets closed {report.tickets_closed}, breaches {report.breaches}, "
                      f"skipped {report.skipped}, errors {len(report.errors)}; notifications sent "
                      f"{delivered.sent}, retrying {delivered.retried}, failed {delivered.failed}", flush=True)
                if args.once:
                    return 1 if report.errors else 0
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0
        finally:
            index.close()

    return with_migrated_database(settings, work)


def warn_about_upkeep(database: Database) -> None:
    from expert_match.db.maintenance import autovacuum_warning

    warning = autovacuum_warning(database)
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)


def at_head(database: Database) -> bool:
    return current_revision(database) == head_revision(database)


def with_migrated_database(settings: Settings, work: Callable[[Database], int]) -> int:
    database = create_database(settings)
    try:
        if not at_head(database):
            print("error: the database schema is not up to date; run `expert-match migrate` first", file=sys.stderr)
            return 2
        return work(database)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
