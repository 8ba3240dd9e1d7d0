"""Composition root: builds each service's parts from Settings, for either mode."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI

from schemas.events import EventEnvelope, Source
from schemas.glossary import CaseState, Role
from schemas.views_archive import IntegrityRequest
from services.accounts import api as accounts_api
from services.accounts import web as accounts_web
from services.accounts.policy import PublicLimits, ThrottlePolicy
from services.accounts.store import AccountStore, UnknownUser
from services.casework import api as casework_api
from services.casework import chain
from services.casework.application import CaseworkApplication
from services.casework.base import CadreLookup, HandlerCheck, IntegrityLookup
from services.casework.rules import CaseNotFound
from services.common.application import JianduApplication, log_reader
from services.common.china_time import SYSTEM_CLOCK, Clock
from services.common.config import Config, ConfigStore
from services.common.eventstore import eventstore_env
from services.common.follower import LogFollower
from services.common.procedure import ProcedureError
from services.common.settings import Settings
from services.common.sql import Database
from services.common.unavailable import Probe
from services.common.web import create_app
from services.intake import api as intake_api
from services.intake.application import IntakeApplication
from services.intake.base import CaseStates, IntakePolicy, SubmissionRefused
from services.intake.errors import IdempotencyKeyReused, SubmissionContention
from services.intake.keyed import IntakeKeys
from services.intake.report_log import ReportLog
from services.intake.reveal import IdentityReveal
from services.intake.vault import ReporterVault
from services.projections.archive.integrity import IntegrityReplies
from services.projections.archive.register import CadreRegister
from services.projections.cases.queries import CaseQueries
from services.projections.cases.rows import SqlReader
from services.projections.catchup import catch_up
from services.projections.read_side import ReadSide
from services.projections.store import ReadStore
from services.web import pages
from services.web.shell import PageServices

log = logging.getLogger(__name__)

ERROR_STATUSES: dict[type[Exception], int] = {
    IdempotencyKeyReused: 422,
    SubmissionContention: 503,
    SubmissionRefused: 422,
}

EMBEDDED_CONSUMER = "embedded"


def build_config(settings: Settings) -> ConfigStore:
    return ConfigStore(Database.for_service(settings, "config"))


def build_accounts(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> AccountStore:
    return AccountStore(
        Database.for_service(settings, "accounts"),
        session_hours=settings.session_hours,
        token_hours=settings.token_hours,
        csrf_key=settings.derived_key("csrf"),
        clock=clock.utc_now,
        trusted_proxies=[p for p in settings.trusted_proxies.split(",") if p.strip()],
        public_limits=PublicLimits(
            follow_up=ThrottlePolicy(
                max_failures=settings.follow_up_max_failures,
                client_max_failures=settings.follow_up_client_max_failures,
            ),
            mailbox_per_day=settings.mailbox_daily_limit,
        ),
    )


def case_states_from_casework(casework: CaseworkApplication) -> CaseStates:
    """Embedded: casework's own aggregate says where a case stands (no lag)."""

    def state_of(case_id: UUID) -> CaseState | None:
        try:
            return casework.get_case(case_id).state
        except CaseNotFound:
            return None

    return state_of


def case_states_from_read_models(settings: Settings) -> CaseStates:
    """Distributed: the case list read model says where a case stands (the projections'
    database, read only). A case opened moments ago may not be there yet: joining it is
    refused until it is, which the operator sees as "not opened yet"."""
    reader: list[CaseQueries] = []

    def state_of(case_id: UUID) -> CaseState | None:
        if not reader:
            reader.append(CaseQueries(SqlReader(Database.for_service(settings, "projections"))))
        state = reader[0].state_of(str(case_id))
        return CaseState(state) if state else None

    return state_of


def build_intake(
    settings: Settings,
    config: Config | None = None,
    case_states: CaseStates | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> IntakeApplication:
    vault = ReporterVault(
        Database.for_service(settings, "intake"),
        vault_key=settings.derived_key("reporter-vault"),
        follow_up_key=settings.derived_key("follow-up"),
    )
    return IntakeApplication(
        eventstore_env(settings, "intake"),
        vault=vault,
        policy=IntakePolicy(auto_accept=settings.auto_accept),
        config=config or build_config(settings),
        today=clock.today,
        keys=IntakeKeys(settings.derived_key("submission-digest")),
        case_states=case_states or case_states_from_read_models(settings),
    )


def build_log_reader(settings: Settings, source: Source) -> JianduApplication:
    """A read-only view of a service's event store (relays, ``jiandu verify``, the record's
    check on the audit page of ``jiandu web``): it saves nothing."""
    return log_reader(eventstore_env(settings, source), source)


def build_casework(
    settings: Settings,
    config: Config | None = None,
    clock: Clock = SYSTEM_CLOCK,
    *,
    accounts: AccountStore | None = None,
    register: CadreRegister | None = None,
    replies: IntegrityReplies | None = None,
) -> CaseworkApplication:
    chain.use_key(settings.derived_key("case-chain"))
    return CaseworkApplication(
        eventstore_env(settings, "casework"),
        config=config or build_config(settings),
        today=clock.today,
        is_handler=handler_check(accounts) if accounts is not None else None,
        cadre_lookup=cadre_lookup(register) if register is not None else None,
        id_key=settings.derived_key("casework-ids"),
        integrity=integrity_lookup(replies) if replies is not None else None,
    )


def handler_check(accounts: AccountStore) -> HandlerCheck:
    """Casework's question to the accounts store: may this username be assigned a case?"""

    def is_handler(username: str) -> bool:
        try:
            account = accounts.get_user(username)
        except UnknownUser:
            return False
        return account.active and account.role is Role.HANDLER

    return is_handler


def cadre_lookup(register: CadreRegister) -> CadreLookup:
    """Casework's question to the cadre register: who is this cadre id?"""

    def lookup(cadre_id: str) -> dict[str, Any] | None:
        record = register.get(cadre_id)
        return record.model_dump() if record is not None else None

    return lookup


def integrity_lookup(replies: IntegrityReplies) -> IntegrityLookup:
    """Casework's question to the information base: the integrity reply about these cadres
    on this day (a selection's integrity opinions, decision 0034)."""

    def lookup(cadre_ids: list[str], as_of: dt.date, purpose: str) -> dict[str, tuple[bool, str]]:
        reply = replies.reply(IntegrityRequest(cadre_ids=cadre_ids, as_of=as_of, purpose=purpose))
        return {c.cadre.cadre_id: (c.stands_in_the_way, c.opinion_zh) for c in reply.cadres}

    return lookup


def build_read_side(
    settings: Settings, config: Config | None = None, clock: Clock = SYSTEM_CLOCK
) -> ReadSide:
    """The one read side of a process: every read model's queries (services/projections)."""
    store = ReadStore(Database.for_service(settings, "projections"))
    return ReadSide.over(store, config=config or build_config(settings), today=clock.today)


def web_app(
    title: str,
    routers: Sequence[APIRouter],
    health: Callable[[], dict[str, Any]],
    accounts: AccountStore | None = None,
    databases: Sequence[Probe] = (),
) -> FastAPI:
    """A process's app; with ``accounts`` its routes can ask who is acting
    (``services.accounts.web``: ``request.app.state.accounts``). /healthz pings
    ``databases`` and the accounts' database (0018)."""
    probes = [*databases, accounts.db] if accounts is not None else list(databases)
    app = create_app(title, routers, health, ERROR_STATUSES, probes)
    if accounts is not None:
        accounts_web.install(app, accounts)
    return app


# -- the distributed processes' HTTP apps (``jiandu intake-api``, ``casework``, ...) ----------


def intake_api_app(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """``jiandu intake-api``: reports and follow-up, and the pages that write intake's data
    (the mailbox, the follow-up, the operators' desk: ``pages.INTAKE_DESKS``, decision record
    0031); the case's state, its handler and the reporter's feedback read from the read
    models."""
    config = build_config(settings)
    intake = build_intake(settings, config, clock=clock)
    read = build_read_side(settings, config, clock)  # queries only: the worker writes it
    # One audited reveal for the API and the report page; a case's handler from the read models.
    reveal = IdentityReveal(intake, case_handler=read.cases.handler_of)
    app = web_app(
        "Jiandu intake",
        [intake_api.build_router(intake, follow_up=read.cases.follow_up, reveal=reveal)],
        lambda: {"service": "intake", "position": intake.max_position()},
        accounts=build_accounts(settings, clock),
        databases=[intake],
    )
    services = PageServices(read, intake=intake, reveal=reveal)
    return pages.install(app, services, pages.INTAKE_DESKS)


def casework_api_app(
    work: CaseworkApplication,
    accounts: AccountStore,
    consumer_alive: Callable[[], bool],
    consumer_state: Callable[[], dict[str, Any]] = dict,
    page_services: PageServices | None = None,
) -> FastAPI:
    """``jiandu casework``'s HTTP API (its Kafka consumer runs beside it); with
    ``page_services`` (``casework_pages``), the pages that write cases too
    (``pages.CASEWORK_DESKS``, decision record 0031)."""
    app = web_app(
        "Jiandu casework",
        [casework_api.build_router(work)],
        lambda: {
            "service": "casework",
            "consumer_alive": consumer_alive(),
            "consumer": consumer_state(),
            "position": work.max_position(),
        },
        accounts=accounts,
        databases=[work],
    )
    if page_services is None:
        return app
    return pages.install(app, page_services, pages.CASEWORK_DESKS)


def casework_pages(settings: Settings, work: CaseworkApplication, read: ReadSide) -> PageServices:
    """What ``jiandu casework``'s pages read and write: casework itself, the read side, and
    intake's log read only (the reports whose return waits on the approvals page)."""
    reports = ReportLog(eventstore_env(settings, "intake"))
    return PageServices(read, casework=work, reports=reports)


def web_pages_app(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """``jiandu web``: the pages that write neither intake's nor casework's data
    (``pages.WEB_DESKS``: sign-in, the information base, liaison, the audit,
    administration). It composes neither application (decision record 0031): it reads the
    read side, writes accounts and configuration, and reads casework's log for the record's
    check."""
    chain.use_key(settings.derived_key("case-chain"))
    config = build_config(settings)
    read = build_read_side(settings, config, clock)
    app = web_app(
        "Jiandu pages",
        [],
        lambda: {"service": "web"},
        accounts=build_accounts(settings, clock),
        databases=[read.store.db],
    )
    services = PageServices(read, case_log=build_log_reader(settings, "casework"))
    return pages.install(app, services, pages.WEB_DESKS)


def read_side_routers(read: ReadSide) -> list[APIRouter]:
    """The information base's routes (and sign-in, accounts, the audit): the one list that
    ``jiandu projections-api`` and the embedded mode both serve."""
    return [*read.routers(), accounts_api.build_router()]


def projections_api_app(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """``jiandu projections-api``: the information base, sign-in, administration, audit."""
    read = build_read_side(settings, clock=clock)
    return web_app(
        "Jiandu information base",
        # Sign-in, accounts and the audit: served here, where the proxy sends other paths.
        read_side_routers(read),
        lambda: {"service": "projections"},
        accounts=build_accounts(settings, clock),
        databases=[read.store.db],
    )


@dataclass
class EmbeddedSystem:
    """Everything in one process: the same applications and projections, wired in-process."""

    settings: Settings
    intake: IntakeApplication
    casework: CaseworkApplication
    read: ReadSide
    config: ConfigStore
    accounts: AccountStore
    clock: Clock = SYSTEM_CLOCK
    followers: list[LogFollower] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> EmbeddedSystem:
        """``clock`` gives every part its today and now (China time); tests and the demo's
        seeding pass a ``FixedClock``."""
        from services.migrate import migrate

        # One process: it makes its own schema, and checks the key against the data
        # folder's stores (docs/decisions/0019).
        migrate(settings)
        config = build_config(settings)
        accounts = build_accounts(settings, clock)
        read = build_read_side(settings, config, clock)
        casework = build_casework(
            settings,
            config,
            clock,
            accounts=accounts,
            register=read.register,
            replies=read.replies,
        )
        system = cls(
            settings,
            build_intake(settings, config, case_states_from_casework(casework), clock),
            casework,
            read,
            config,
            accounts=accounts,
            clock=clock,
        )
        # A new projection, or one whose version changed, first replays both logs on its own.
        catch_up(system.read.store, {"intake": system.intake, "casework": system.casework})
        system.followers = system._wire()
        return system

    def _wire(self) -> list[LogFollower]:
        casework, store = self.casework, self.read.store
        poll = self.settings.follower_poll_seconds

        def to_casework(envelopes: Sequence[EventEnvelope]) -> None:
            casework.handle_batch(envelopes, upstream="intake")  # one transaction (0025)

        def to_projections(envelopes: Sequence[EventEnvelope]) -> None:
            store.apply(envelopes, consumer=EMBEDDED_CONSUMER)

        return [
            LogFollower(
                self.intake,
                to_casework,
                lambda: casework.position("intake"),
                name="intake→casework",
                poll_seconds=poll,
            ),
            LogFollower(
                self.intake,
                to_projections,
                lambda: store.position(EMBEDDED_CONSUMER, "intake"),
                name="intake→projections",
                poll_seconds=poll,
            ),
            LogFollower(
                self.casework,
                to_projections,
                lambda: store.position(EMBEDDED_CONSUMER, "casework"),
                name="casework→projections",
                poll_seconds=poll,
            ),
        ]

    def catch_up(self) -> None:
        """Run every follower until nothing is pending (tests, demo seeding)."""
        while sum(f.catch_up() for f in self.followers):
            pass

    def start(self) -> None:
        for follower in self.followers:
            thread = threading.Thread(
                target=follower.run, args=(self._stop,), name=follower.name, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.intake.close()
        self.casework.close()
        self.read.store.db.close()
        self.accounts.close()

    def health(self) -> dict[str, Any]:
        return {
            "mode": "embedded",
            "data_dir": str(self.settings.data_dir.resolve()),
            "intake_position": self.intake.max_position(),
            "casework_position": self.casework.max_position(),
        }

    def case_handler(self, case_id: str) -> str | None:
        """Who handles a case, from casework itself (the scope of the identity reveal)."""
        try:
            return self.casework.get_case(UUID(case_id)).handler_id
        except (ProcedureError, ValueError):
            return None

    def web_app(self) -> FastAPI:
        """The API and every desk's pages (services/web) in one app."""
        reveal = IdentityReveal(self.intake, case_handler=self.case_handler)
        services = PageServices(
            self.read, intake=self.intake, casework=self.casework, reveal=reveal
        )
        return pages.install(self._api_app(reveal), services)

    def _api_app(self, reveal: IdentityReveal) -> FastAPI:
        return web_app(
            "Jiandu 监督",
            [
                intake_api.build_router(
                    self.intake, follow_up=self.read.cases.follow_up, reveal=reveal
                ),
                casework_api.build_router(self.casework),
                *read_side_routers(self.read),
            ],
            self.health,
            accounts=self.accounts,
            databases=[self.intake, self.casework, self.read.store.db],
        )
