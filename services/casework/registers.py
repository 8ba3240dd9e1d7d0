"""The registers of official documents (发文登记, decision 0035): one small aggregate per
kind and year in casework's store, its id derived from the two, giving each document its
number (文号) unique, gap-free and in order of issue, like the intake ledger (0023).

A register is saved in the same transaction as the case (or selection) that issues the
document: two issues at once write the same version of the register, so one is refused and
tried again by the application (``CaseworkApplication.execute``), never a gap or a repeat.
The register holds nothing of a reporter; it is never published: no contract.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from schemas.glossary import DocumentKind
from services.common.documents import document_number

# Fixed for good: every register's id is derived from it.
REGISTER_NAMESPACE = UUID("0b1e7c2a-6d3f-4a58-9e21-7c4d5b3a9f10")


def register_id(kind: DocumentKind, year: int) -> UUID:
    return uuid5(REGISTER_NAMESPACE, f"document-register:{kind.value}:{year}")


class DocumentRegisterCreated(Aggregate.Created):
    TOPIC = "jiandu.casework:DocumentRegister.Created"


class DocumentRegisterEvent(Aggregate.Event):
    TOPIC = "jiandu.casework:DocumentRegister.Event"


class DocumentRegister(Aggregate):
    """The numbers of one kind of document in one year, in order of issue."""

    TOPIC = "jiandu.casework:DocumentRegister"

    Created = DocumentRegisterCreated
    Event = DocumentRegisterEvent

    class Started(DocumentRegisterCreated):
        TOPIC = "jiandu.casework:DocumentRegister.Started"
        kind: str
        year: int

    class NumberTaken(DocumentRegisterEvent):
        """The next number, taken by the document about ``about`` of ``owner_id`` (a case or
        a selection)."""

        TOPIC = "jiandu.casework:DocumentRegister.NumberTaken"
        n: int
        number: str
        owner_id: UUID
        about: str

        def apply(self, register: Any) -> None:
            register.taken.append(
                {"n": self.n, "number": self.number, "owner_id": self.owner_id, "about": self.about}
            )

    def __init__(self, kind: str, year: int) -> None:
        self.kind = DocumentKind(kind)
        self.year = year
        self.taken: list[dict[str, Any]] = []

    @classmethod
    def start(cls, kind: DocumentKind, year: int) -> DocumentRegister:
        return cls._create(cls.Started, id=register_id(kind, year), kind=kind.value, year=year)

    def take(self, prefix: str, owner_id: UUID, about: str) -> str:
        """The next number (文号 ``{prefix}〔{year}〕{n}号``), recorded for ``owner_id``."""
        n = len(self.taken) + 1
        number = document_number(prefix, self.year, n)
        self.trigger_event(self.NumberTaken, n=n, number=number, owner_id=owner_id, about=about)
        return number
