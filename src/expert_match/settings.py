"""Settings read once from ``EXPERT_MATCH_*`` environment variables and passed in explicitly.

Nothing reads the environment at import time: ``Settings.from_env()`` is called by the CLI (or a
test) and the frozen result is handed to ``create_app`` and the command it runs.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

PREFIX = "EXPERT_MATCH_"
DEFAULT_SQLITE_PATH = Path("var") / "expert_match.sqlite3"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Service configuration. Every field maps to ``EXPERT_MATCH_<FIELD>`` (upper case)."""

    database_url: str = field(default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE_PATH}")
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    # JSON bodies are small (a profile, a ticket); anything larger is refused with 413.
    max_body_bytes: int = 64 * 1024
    sqlite_busy_timeout_ms: int = 10_000
    # Requests' reads on the event loop (on), in worker threads (off), or auto: on for SQLite and
    # for PostgreSQL on this host, off for PostgreSQL across a network (``db.engine.reads_inline``).
    reads_inline: str = "auto"
    log_level: str = "INFO"
    # Authentication: API tokens live this many days; web sessions this many hours. Failed logins
    # allowed per account and per client address within the window before 429.
    token_days: int = 90
    session_hours: int = 12
    # Session cookies carry the Secure flag (HTTPS only; browsers also accept it on localhost).
    cookie_secure: bool = True
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_minutes: int = 15
    # Filing: tickets per hour from one account and from one client address (the socket peer, never
    # a forwarded-for header), so a stolen token or a script cannot flood the desk.
    filings_per_hour_per_account: int = 30
    filings_per_hour_per_address: int = 120
    # Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the
    # client; empty: the socket peer is the client, whatever a header says (``http/clients``).
    trusted_proxies: str = ""
    # Offers per priority: "priority=parallel/timeout in business minutes".
    offer_rounds: str = "urgent=5/60,high=3/120,normal=3/240,low=2/480"
    # A resolved ticket can be reopened for this many days, and closes itself after this many.
    reopen_days: int = 7
    auto_close_days: int = 5
    # Business calendar (office hours, holidays) as JSON; empty: the built-in Vietnamese calendar.
    calendar_file: str = ""
    # Notifications: e-mail over SMTP when a host is set; signed webhooks when a URL is set.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "expert-match@localhost"
    webhook_url: str = ""
    webhook_secret: str = ""
    # Links in notifications point here.
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``), then apply ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, f.type, raw)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def offer_policy(self) -> dict[str, tuple[int, int]]:
        """{priority: (offers in parallel, timeout in business minutes)} from ``offer_rounds``."""
        return parse_offer_rounds(self.offer_rounds)

    def __post_init__(self) -> None:
        parse_offer_rounds(self.offer_rounds)
        parse_networks(self.trusted_proxies)
        if self.reads_inline not in READS_INLINE:
            raise SettingsError(f"{PREFIX}READS_INLINE must be one of {', '.join(READS_INLINE)}, not {self.reads_inline!r}")


PRIORITIES = ("urgent", "high", "normal", "low")
READS_INLINE = ("auto", "on", "off")


def parse_offer_rounds(text: str) -> dict[str, tuple[int, int]]:
    """Parse ``EXPERT_MATCH_OFFER_ROUNDS``.

    >>> parse_offer_rounds("urgent=5/60,high=3/120,normal=3/240,low=2/480")["high"]
    (3, 120)
    """
    policy: dict[str, tuple[int, int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        parallel, _, minutes = value.partition("/")
        if name not in PRIORITIES or not parallel.isdigit() or not minutes.isdigit() \
                or not 1 <= int(parallel) <= 50 or not 1 <= int(minutes) <= 100_000:
            raise SettingsError(f"{PREFIX}OFFER_ROUNDS: {item!r} is not priority=parallel/minutes "
                                f"(priorities {', '.join(PRIORITIES)}; 1-50 offers, 1-100000 minutes)")
        policy[name] = (int(parallel), int(minutes))
    missing = [p for p in PRIORITIES if p not in policy]
    if missing:
        raise SettingsError(f"{PREFIX}OFFER_ROUNDS: no entry for {', '.join(missing)}")
    return policy


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Parse ``EXPERT_MATCH_TRUSTED_PROXIES``: comma-separated addresses or networks.

    >>> parse_networks("10.0.0.5, 192.168.0.0/24, ::1")
    (IPv4Network('10.0.0.5/32'), IPv4Network('192.168.0.0/24'), IPv6Network('::1/128'))
    >>> parse_networks("proxy.local")
    Traceback (most recent call last):
    ...
    expert_match.settings.SettingsError: EXPERT_MATCH_TRUSTED_PROXIES: 'proxy.local' is not an IP address or network
    """
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(f"{PREFIX}TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(networks)


def _parse(name: str, type_name: object, raw: str) -> object:
    type_text = str(type_name)
    if type_text == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{PREFIX}{name.upper()} must be true or false, not {raw!r}")
    if type_text == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name.upper()} must be an integer, not {raw!r}") from None
    return raw


def documented_variables() -> list[tuple[str, str]]:
    """(variable, default) pairs, used by the README test to keep the configuration table honest."""
    defaults = Settings()
    return [(PREFIX + f.name.upper(), str(getattr(defaults, f.name))) for f in fields(Settings)]
