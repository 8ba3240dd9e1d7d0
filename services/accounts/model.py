"""Who acts (a signed-in Principal), accounts as administrators see them, and audit entries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from schemas.glossary import Role


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    role: Role
    unit: str | None = None
    section: str | None = None

    def actor(self) -> dict[str, str]:
        """The actor dict the applications' commands take."""
        return {"id": self.username, "role": self.role.value}


@dataclass(frozen=True)
class Account:
    """An account as administrators see it (never the password hash)."""

    username: str
    display_name: str
    role: Role
    unit: str | None
    section: str | None
    active: bool
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        data["role_zh"] = self.role.zh
        return data


@dataclass(frozen=True)
class AuditEntry:
    """One read of a sensitive item: who, when, why, which item."""

    entry_id: str
    read_at: str
    username: str
    role: str
    item_kind: str
    item_id: str
    reason: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
