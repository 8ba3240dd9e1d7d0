"""The registers of official documents (发文登记, decision 0035): one small aggregate per
kind and year in the store of the service that issues that kind (casework: the cadres'
documents; intake: the letters to real-name reporters, decision 0037), its id derived from
the two, giving each document its number (文号) unique, gap-free and in order of issue, like
the intake ledger (0023).

A register is saved in the same transaction as the case, selection, project or report that
issues the document: two issues at once write the same version of the register, so one is
refused and tried again by the application (``CaseworkApplication.execute``,
``IntakeApplication.issue_letter``), never a gap or a repeat. The register holds nothing of
a reporter; it is never published: no contract. (Its topics keep the name they were first
stored under.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate

from schemas.glossary import DocumentKind
from services.common.config import Config
from services.common.documents import document_number, zh_date

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
        a selection, a project, a report)."""

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


def document_register(
    repository: Repository[UUID], kind: DocumentKind, year: int
) -> DocumentRegister:
    """The register of ``kind``'s numbers in ``year`` (started when first used)."""
    try:
        register: DocumentRegister = repository.get(register_id(kind, year))
    except AggregateNotFoundError:
        return DocumentRegister.start(kind, year)
    return register


def number_document(
    register: DocumentRegister,
    config: Config,
    owner_id: UUID,
    about: str,
    issued_on: dt.date,
) -> tuple[DocumentRegister, dict[str, str], str]:
    """Take the next number of ``register`` (its kind's, in the year of ``issued_on``) for a
    document issued on ``issued_on``: the register to save with its owner, the fields every
    document has, and the template version it is made with now."""
    kind = register.kind
    assert register.year == issued_on.year, "a document is numbered in its year's register"
    settings = config.documents()
    number = register.take(settings.prefix(kind), owner_id, about)
    common = {
        "number": number,
        "office_name": settings.office_name,
        "issued_on": zh_date(issued_on),
    }
    return register, common, config.template(kind).version
