"""The Selection aggregate (the full record of a cadre selection, decision 0034), one module per stage, in the
Case's idiom (decisions 0029 and 0032).

- ``selection.py``: ``Selection`` put together from its parts, ``Selection.propose``,
  ``SELECTION_CONTRACTS``;
- ``record.py``: what a selection knows (``SelectionRecord``), the sealed trigger, the
  events' bases;
- ``proposal.py``, ``recommendation.py``, ``inspection.py``, ``decision.py``, ``holds.py``:
  each stage's events (with their ``apply``) and commands;
- ``responsibility.py``: voided appointments and responsibility for the selection;
- ``rules.py``: who may record which step at which stage, and the named rules.

The names below are the package's public surface: import them from here.
"""

from services.casework.selection.selection import (
    SELECTION_CONTRACTS,
    SELECTION_INTERNAL_FIELDS,
    Selection,
)

__all__ = ["SELECTION_CONTRACTS", "SELECTION_INTERNAL_FIELDS", "Selection"]
