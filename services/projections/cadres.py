"""The cadre register (干部名册): reference data that archives and look-ups join to."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from schemas.views import CadreRecord
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


class RegisterImportError(ValueError):
    """A CSV that cannot be imported; nothing from it was stored."""


class CadreRegister:
    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.db.create_tables(DDL)

    def upsert(self, records: Iterable[CadreRecord]) -> int:
        rows = [(r.cadre_id, r.name, r.unit, r.position, r.management_level.value) for r in records]
        with self.store.db.transaction() as cur:
            cur.executemany(
                "INSERT INTO cadres (cadre_id, name, unit, position, management_level) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (cadre_id) DO UPDATE SET "
                "name = excluded.name, unit = excluded.unit, position = excluded.position, "
                "management_level = excluded.management_level",
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
        rows = self.store.query("SELECT * FROM cadres WHERE cadre_id = %s", (cadre_id,))
        return CadreRecord.model_validate(rows[0]) if rows else None

    def search(self, text: str, limit: int = 20) -> list[CadreRecord]:
        pattern = f"%{text.strip()}%"
        rows = self.store.query(
            "SELECT * FROM cadres WHERE name LIKE %s OR unit LIKE %s OR cadre_id = %s "
            "ORDER BY name, unit LIMIT %s",
            (pattern, pattern, text.strip(), limit),
        )
        return [CadreRecord.model_validate(r) for r in rows]
