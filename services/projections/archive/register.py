"""The cadre register (干部名册): reference data that archives and look-ups join to."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from schemas.events import candidate_key
from schemas.views import CadreRecord
from services.common.sql import DDL_LOCK, Database
from services.projections.store import ReadStore

DDL = (
    """CREATE TABLE IF NOT EXISTS cadres (
        cadre_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        position TEXT NOT NULL,
        management_level TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS cadres_name ON cadres (name)",
)

CSV_COLUMNS = ("cadre_id", "name", "unit", "position", "management_level")
COLUMNS = ", ".join(CSV_COLUMNS)  # a register row as CadreRecord reads it

# Schema version 2 of the projections' database (``jiandu migrate``): each row's
# ``candidate_key`` (its name and unit as a report names an unregistered person), indexed,
# so "which cadre has this name and unit" is one indexed look-up rather than a read of the
# whole register (docs/decisions/0027).
KEY_INDEX = "CREATE INDEX IF NOT EXISTS cadres_candidate_key ON cadres (candidate_key)"


def upgrade(db: Database) -> None:
    """Add and fill the ``candidate_key`` column where it is missing, then its index
    (idempotent: ``jiandu migrate``'s step, and an embedded store's own start)."""
    with db.transaction() as cur:
        if db.dialect == "postgres":
            cur.execute(DDL_LOCK)
            cur.execute("ALTER TABLE cadres ADD COLUMN IF NOT EXISTS candidate_key TEXT")
        else:
            cur.execute("PRAGMA table_info(cadres)")
            if "candidate_key" not in {r["name"] for r in cur.fetchall()}:
                cur.execute("ALTER TABLE cadres ADD COLUMN candidate_key TEXT")
        cur.execute("SELECT cadre_id, name, unit FROM cadres WHERE candidate_key IS NULL")
        rows = [(candidate_key(r["name"], r["unit"]), r["cadre_id"]) for r in cur.fetchall()]
        if rows:
            cur.executemany("UPDATE cadres SET candidate_key = %s WHERE cadre_id = %s", rows)
    db.execute_script([KEY_INDEX])


class RegisterImportError(ValueError):
    """A CSV that cannot be imported; nothing from it was stored."""


class CadreRegister:
    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.db.create_tables(DDL)
        if store.db.ddl_allowed:
            upgrade(store.db)

    def upsert(self, records: Iterable[CadreRecord]) -> int:
        rows = [
            (
                r.cadre_id,
                r.name,
                r.unit,
                r.position,
                r.management_level.value,
                candidate_key(r.name, r.unit),
            )
            for r in records
        ]
        with self.store.db.transaction() as cur:
            cur.executemany(
                "INSERT INTO cadres (cadre_id, name, unit, position, management_level, "
                "candidate_key) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (cadre_id) DO "
                "UPDATE SET name = excluded.name, unit = excluded.unit, "
                "position = excluded.position, management_level = excluded.management_level, "
                "candidate_key = excluded.candidate_key",
                rows,
            )
        return len(rows)

    def import_csv(self, path: Path) -> int:
        """Import a UTF-8 CSV with a header row; all rows or none."""
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("cadre_id", "name") if c not in (reader.fieldnames or [])]
            if missing:
                raise RegisterImportError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    f"expected {', '.join(CSV_COLUMNS)}"
                )
            records, problems = [], []
            for line, raw in enumerate(reader, start=2):
                data = {k: (v or "") for k, v in raw.items() if k in CSV_COLUMNS}
                if not data.get("management_level"):
                    data.pop("management_level", None)
                try:
                    records.append(CadreRecord.model_validate(data))
                except ValidationError as error:
                    for e in error.errors():
                        field = ".".join(str(p) for p in e["loc"])
                        problems.append(f"line {line}, {field}: {e['msg']}")
        if problems:
            raise RegisterImportError(f"{path}: nothing imported; " + "; ".join(problems))
        return self.upsert(records)

    def get(self, cadre_id: str) -> CadreRecord | None:
        rows = self.store.query(f"SELECT {COLUMNS} FROM cadres WHERE cadre_id = %s", (cadre_id,))
        return CadreRecord.model_validate(rows[0]) if rows else None

    def get_many(self, cadre_ids: Sequence[str]) -> dict[str, CadreRecord]:
        """The registered ones of ``cadre_ids``, in one query."""
        if not cadre_ids:
            return {}
        marks = ", ".join(["%s"] * len(cadre_ids))
        rows = self.store.query(
            f"SELECT {COLUMNS} FROM cadres WHERE cadre_id IN ({marks})", list(cadre_ids)
        )
        return {r["cadre_id"]: CadreRecord.model_validate(r) for r in rows}

    def with_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """candidate key -> the ids of the registered cadres of that name and unit (in id
        order), for each of ``keys`` (an empty list: none), through the key's index."""
        wanted = sorted(set(keys))
        found: dict[str, list[str]] = {k: [] for k in wanted}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            for r in self.store.query(
                "SELECT candidate_key, cadre_id FROM cadres "
                f"WHERE candidate_key IN ({marks}) ORDER BY cadre_id",
                chunk,
            ):
                found[r["candidate_key"]].append(r["cadre_id"])
        return found

    def search(self, text: str, limit: int = 20) -> list[CadreRecord]:
        pattern = f"%{text.strip()}%"
        rows = self.store.query(
            f"SELECT {COLUMNS} FROM cadres WHERE name LIKE %s OR unit LIKE %s OR cadre_id = %s "
            "ORDER BY name, unit LIMIT %s",
            (pattern, pattern, text.strip(), limit),
        )
        return [CadreRecord.model_validate(r) for r in rows]
