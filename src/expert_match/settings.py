"""Settings read once from ``EXPERT_MATCH_*`` environment variables and passed in explicitly.

Nothing reads the environment at import time: ``Settings.from_env()`` is called by the CLI (or a
test) and the frozen result is handed to ``create_app`` and the command it runs.
"""

from __future__ import annotations

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
    log_level: str = "INFO"

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
