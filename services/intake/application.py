"""The intake application: register reports from every channel, idempotently.

Composed of its parts: the shared state and reads (``base.py``), the registration of
submissions (``registration.py``), the triage commands and the ``TRIAGE_COMMANDS`` table
(``triage.py``), the letters to real-name reporters (``letters.py``), the reads of what the vault keeps (``vault_reads.py``); here, how it is
set up (the vault, the policy, the clock, group commit where the event store allows).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from schemas.events import Source
from services.common.china_time import china_today
from services.common.config import Config
from services.intake.base import CaseStates, IntakePolicy
from services.intake.batch_store import supported
from services.intake.domain import Ledger
from services.intake.group_commit import GroupCommitter
from services.intake.keyed import IntakeKeys
from services.intake.letters import Letters
from services.intake.registration import Registration
from services.intake.triage import Triage
from services.intake.vault import ReporterVault
from services.intake.vault_reads import VaultReads


# Named here for the modules that take them from the application (each lives in the
# module of its concept: base.py, registration.py, triage.py).
class IntakeApplication(Registration, Triage, Letters, VaultReads):
    name = "intake"
    source: ClassVar[Source] = "intake"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Ledger: 50}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        vault: ReporterVault,
        policy: IntakePolicy | None = None,
        today: Callable[[], dt.date] = china_today,
        config: Config | None = None,
        keys: IntakeKeys | None = None,
        case_states: CaseStates | None = None,
    ) -> None:
        super().__init__(env)
        self.vault = vault
        # Keyed digests (decision 0013); bootstrap passes the key derived for them.
        self.keys = keys or IntakeKeys(vault.derived_key("submission-digest"))
        self.case_states = case_states
        self.policy = policy or IntakePolicy()
        self._today = today
        self.config = config or Config()
        self._register_lock = threading.Lock()
        self._letters_lock = threading.Lock()
        # Group commit (decision 0023) on PostgreSQL and SQLite; else one save a submission.
        self._committer = GroupCommitter(self) if supported(self.recorder) else None

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        super().close()
        self.vault.close()
