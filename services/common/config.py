"""Configuration tables users maintain: time limits, handling effects, official calendars,
the official documents' settings and templates (decision 0035).

They live in one small store (``config`` schema, or ``config.sqlite`` in the embedded
mode) that every process reads, so an administrator's change reaches intake, casework and
the information base alike. Reads are cached for ``ttl`` seconds: a loaded calendar year
takes effect within a minute, without restarts.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from schemas.glossary import DocumentKind, HandlingType
from services.calendar.deadlines import OfficialSchedule, TimeLimits, WorkingDayCalendar
from services.calendar.handling import DEFAULT_EFFECTS, HandlingEffect
from services.common.china_time import utc_now
from services.common.documents import (
    DocumentSettings,
    Template,
    check_template,
    default_template,
    template_version,
)
from services.common.sql import Database

DDL = (
    """CREATE TABLE IF NOT EXISTS calendar_schedules (
        year INTEGER PRIMARY KEY,
        schedule TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS settings_tables (
        name TEXT PRIMARY KEY,
        content TEXT NOT NULL
    )""",
    # Every version of every official document's template (decision 0035), by its digest:
    # a document renders with the version it was issued with, whatever replaced it since.
    """CREATE TABLE IF NOT EXISTS document_templates (
        version TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        content TEXT NOT NULL,
        added_at TEXT NOT NULL,
        added_by TEXT NOT NULL
    )""",
    # The version each kind is issued with now (none: the shipped default).
    """CREATE TABLE IF NOT EXISTS document_templates_current (
        kind TEXT PRIMARY KEY,
        version TEXT NOT NULL
    )""",
    # Every change of the tables above, written in the same transaction as the change.
    """CREATE TABLE IF NOT EXISTS config_changes (
        change_id TEXT PRIMARY KEY,
        changed_at TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        what TEXT NOT NULL,
        before TEXT,
        after TEXT NOT NULL
    )""",
)


@dataclass(frozen=True)
class ConfigChange:
    """Who changed which configuration table when, from what to what (JSON texts)."""

    change_id: str
    changed_at: str
    changed_by: str
    # "time_limits", "handling_effects", "document_settings", "calendar:<year>" or
    # "template:<kind>"
    what: str
    before: str | None
    after: str

    def differences(self) -> list[str]:
        """Each value that changed, as ``path: before → after`` (a new table: every value)."""
        old = json.loads(self.before) if self.before else {}
        new = json.loads(self.after)
        return [f"{path}: {a} → {b}" for path, a, b in _diff(old, new, "")]


def _diff(old: Any, new: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new), key=str):
            found += _diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return found
    return [] if old == new else [(path or "·", _short(old), _short(new))]


def _short(value: Any) -> str:
    text = "—" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"


_EFFECTS = TypeAdapter(dict[HandlingType, HandlingEffect])


class Config:
    """Defaults only: what tests and a fresh installation use."""

    def __init__(
        self,
        schedules: dict[int, OfficialSchedule] | None = None,
        limits: TimeLimits | None = None,
        effects: dict[HandlingType, HandlingEffect] | None = None,
    ) -> None:
        self._calendar = WorkingDayCalendar(schedules or {})
        self._limits = limits or TimeLimits()
        self._effects = dict(DEFAULT_EFFECTS) | (effects or {})
        self._documents = DocumentSettings()
        # Replaced templates (in memory here; in the database in ConfigStore).
        self._templates: dict[str, Template] = {}
        self._current_templates: dict[DocumentKind, str] = {}

    def calendar(self) -> WorkingDayCalendar:
        return self._calendar

    def limits(self) -> TimeLimits:
        return self._limits

    def effects(self) -> dict[HandlingType, HandlingEffect]:
        return self._effects

    def documents(self) -> DocumentSettings:
        return self._documents

    # -- official documents' templates (decision 0035) -------------------------------------

    def template(self, kind: DocumentKind) -> Template:
        """The template a document of ``kind`` is issued with now."""
        version = self._current_templates.get(kind)
        return self._templates[version] if version else default_template(kind)

    def template_version(self, kind: DocumentKind, version: str) -> Template | None:
        """The template of ``kind`` with this version (the current default, a replaced one)."""
        found = self._templates.get(version)
        if found is not None and found.kind is kind:
            return found
        default = default_template(kind)
        return default if default.version == version else None

    def replace_template(self, kind: DocumentKind, content: bytes, *, changed_by: str) -> Template:
        """Issue documents of ``kind`` with this template from now on (checked first: a
        template that does not render with the kind's fields is refused, naming the field)."""
        check_template(kind, content)
        if not changed_by.strip():
            raise ValueError("say who changes the configuration (changed_by)")
        template = Template(kind, template_version(content), content)
        self._templates[template.version] = template
        self._current_templates[kind] = template.version
        return template

    def template_history(self, kind: DocumentKind) -> list[dict[str, str]]:
        """Every version of ``kind``'s template kept, newest first ({version, added_at,
        added_by}); the default is listed when it is in use or was."""
        return [
            {"version": t.version, "added_at": "", "added_by": ""}
            for t in reversed(self._templates.values())
            if t.kind is kind
        ]


class ConfigStore(Config):
    """The configuration tables in a database, cached for ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float = 60.0) -> None:
        super().__init__()
        self.db = db
        self.ttl = ttl
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        db.create_tables(DDL)

    def _fresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at < self.ttl:
                return
            with self.db.transaction() as cur:
                cur.execute("SELECT schedule FROM calendar_schedules")
                schedules = [
                    OfficialSchedule.model_validate_json(r["schedule"]) for r in cur.fetchall()
                ]
                cur.execute("SELECT name, content FROM settings_tables")
                tables = {r["name"]: r["content"] for r in cur.fetchall()}
            self._calendar = WorkingDayCalendar({s.year: s for s in schedules})
            self._limits = (
                TimeLimits.model_validate_json(tables["time_limits"])
                if "time_limits" in tables
                else TimeLimits()
            )
            self._effects = dict(DEFAULT_EFFECTS) | (
                _EFFECTS.validate_json(tables["handling_effects"])
                if "handling_effects" in tables
                else {}
            )
            self._documents = (
                DocumentSettings.model_validate_json(tables["document_settings"])
                if "document_settings" in tables
                else DocumentSettings()
            )
            self._loaded_at = time.monotonic()

    def calendar(self) -> WorkingDayCalendar:
        self._fresh()
        return self._calendar

    def limits(self) -> TimeLimits:
        self._fresh()
        return self._limits

    def effects(self) -> dict[HandlingType, HandlingEffect]:
        self._fresh()
        return self._effects

    def documents(self) -> DocumentSettings:
        self._fresh()
        return self._documents

    # -- official documents' templates: every version kept in the database ------------------

    def template(self, kind: DocumentKind) -> Template:
        """The template issued with now: the replacement the administrator chose, else the
        shipped default, which is kept in the table as it is first used, so a document issued
        with it renders the same after a release changes the default."""
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT t.version, t.content FROM document_templates_current c "
                "JOIN document_templates t ON t.version = c.version WHERE c.kind = %s",
                (kind.value,),
            )
            row = cur.fetchone()
            if row is not None:
                return Template(kind, row["version"], base64.b64decode(row["content"]))
            default = default_template(kind)
            cur.execute(
                "INSERT INTO document_templates (version, kind, content, added_at, added_by) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (version) DO NOTHING",
                (
                    default.version,
                    kind.value,
                    base64.b64encode(default.content).decode(),
                    utc_now().isoformat(timespec="microseconds"),
                    "default",
                ),
            )
        return default

    def template_version(self, kind: DocumentKind, version: str) -> Template | None:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT content FROM document_templates WHERE version = %s AND kind = %s",
                (version, kind.value),
            )
            row = cur.fetchone()
        if row is not None:
            return Template(kind, version, base64.b64decode(row["content"]))
        default = default_template(kind)
        return default if default.version == version else None

    def replace_template(self, kind: DocumentKind, content: bytes, *, changed_by: str) -> Template:
        check_template(kind, content)
        version = template_version(content)
        before = self.template(kind).version  # the default is kept as it is replaced
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO document_templates (version, kind, content, added_at, added_by) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (version) DO NOTHING",
                (
                    version,
                    kind.value,
                    base64.b64encode(content).decode(),
                    utc_now().isoformat(timespec="microseconds"),
                    changed_by,
                ),
            )
            cur.execute(
                "INSERT INTO document_templates_current (kind, version) VALUES (%s, %s) "
                "ON CONFLICT (kind) DO UPDATE SET version = excluded.version",
                (kind.value, version),
            )
            _record(
                cur,
                changed_by,
                f"template:{kind.value}",
                json.dumps({"version": before}),
                json.dumps({"version": version}),
            )
        return Template(kind, version, content)

    def template_history(self, kind: DocumentKind) -> list[dict[str, str]]:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT version, added_at, added_by FROM document_templates WHERE kind = %s "
                "ORDER BY added_at DESC, version",
                (kind.value,),
            )
            return [dict(r) for r in cur.fetchall()]

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    # -- administration -------------------------------------------------------------------

    def load_schedule(self, schedule: OfficialSchedule, *, changed_by: str) -> None:
        """Load (or replace) a year's official holiday schedule (国务院办公厅通知)."""
        text = schedule.model_dump_json()
        with self.db.transaction() as cur:
            cur.execute("SELECT schedule FROM calendar_schedules WHERE year = %s", (schedule.year,))
            row = cur.fetchone()
            cur.execute(
                "INSERT INTO calendar_schedules (year, schedule) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET schedule = excluded.schedule",
                (schedule.year, text),
            )
            _record(
                cur, changed_by, f"calendar:{schedule.year}", row["schedule"] if row else None, text
            )
        self.invalidate()

    def changes(self, limit: int = 200) -> list[ConfigChange]:
        """The history of the configuration tables, newest first."""
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT * FROM config_changes ORDER BY changed_at DESC, change_id LIMIT %s",
                (max(1, min(limit, 1000)),),
            )
            return [ConfigChange(**row) for row in cur.fetchall()]

    def set_table(self, name: str, content: Any, *, changed_by: str) -> None:
        """Replace ``time_limits``, ``handling_effects`` or ``document_settings`` (validated
        first)."""
        if name == "time_limits":
            text = TimeLimits.model_validate(content).model_dump_json()
        elif name == "handling_effects":
            text = _EFFECTS.dump_json(_EFFECTS.validate_python(content)).decode()
        elif name == "document_settings":
            text = DocumentSettings.model_validate(content).model_dump_json()
        else:
            raise ValueError(
                f"no configuration table {name!r}; the tables are time_limits, handling_effects "
                "and document_settings"
            )
        with self.db.transaction() as cur:
            cur.execute("SELECT content FROM settings_tables WHERE name = %s", (name,))
            row = cur.fetchone()
            cur.execute(
                "INSERT INTO settings_tables (name, content) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET content = excluded.content",
                (name, text),
            )
            _record(cur, changed_by, name, row["content"] if row else None, text)
        self.invalidate()

    def describe(self) -> dict[str, Any]:
        return {
            "calendar_years_loaded": sorted(self.calendar().schedules),
            "time_limits": json.loads(self.limits().model_dump_json()),
            "handling_effects": {k.value: v.model_dump() for k, v in self.effects().items()},
            "document_settings": self.documents().model_dump(mode="json"),
        }


def _record(cur: Any, changed_by: str, what: str, before: str | None, after: str) -> None:
    if not changed_by.strip():
        raise ValueError("say who changes the configuration (changed_by)")
    cur.execute(
        "INSERT INTO config_changes (change_id, changed_at, changed_by, what, before, after) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (
            str(uuid.uuid4()),
            utc_now().isoformat(timespec="microseconds"),
            changed_by,
            what,
            before,
            after,
        ),
    )
