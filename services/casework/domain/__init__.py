"""The Case aggregate (问题线索/案件), one module per stage of the procedure (decision 0032).

- ``case.py``: ``Case`` put together from its parts, ``Case.open``, ``CASE_CONTRACTS``;
- ``record.py``: what a case knows (``CaseRecord``), the sealed trigger, the events' bases;
- ``opening.py``, ``disposition.py``, ``conclusion.py``, ``clearing.py``, ``closing.py``:
  each stage's events (with their ``apply``) and commands;
- ``verdicts.py``: verdicts per cadre and allegation, ``subject_key``.

The names below are the package's public surface: import them from here.
"""

from services.casework.domain.case import CASE_CONTRACTS, CASE_INTERNAL_FIELDS, Case
from services.casework.domain.record import SYSTEM_ACTOR, Actor
from services.casework.domain.verdicts import overall_verdict, subject_key

__all__ = [
    "CASE_CONTRACTS",
    "CASE_INTERNAL_FIELDS",
    "SYSTEM_ACTOR",
    "Actor",
    "Case",
    "overall_verdict",
    "subject_key",
]
