"""The one table of where a case stands after each event (services/common/case_states.py)
agrees with the one table of which commands are allowed in which state (rules.PERMISSIONS).

Each command names the event it records. For every command and every state PERMISSIONS
allows it in, the state the table gives after its event (over every value of the data that
decides it) must be a state the procedure goes on from: some command is allowed there.
Every state the table produces comes from an event some command records, and every state a
case can be in is produced.
"""

from __future__ import annotations

from types import SimpleNamespace

from schemas.glossary import CaseState, Disposition, InquiryOutcome
from services.casework.domain import CASE_CONTRACTS, Case
from services.casework.rules import PERMISSIONS, RECORDS
from services.common.case_states import DECIDED_BY_DATA, FIXED, state_after

S = CaseState

# Recorded by the case itself or by intake, not by a command PERMISSIONS governs.
NOT_BY_COMMAND = {"CaseOpened": S.OPEN, "ReportJoined": None}


def _data_variants(command: str, before: CaseState) -> list[SimpleNamespace]:
    """Every value of the fields that decide the state after the command's event."""
    if command == "assign":
        first = before is S.OPEN  # a case leaves OPEN at its first assignment
        return [SimpleNamespace(previous_handler_id=None if first else "h1")]
    if command == "approve_disposition":
        return [SimpleNamespace(disposition=d.value) for d in Disposition]
    if command == "evaluate_inquiry_reply":
        return [SimpleNamespace(outcome=o.value) for o in InquiryOutcome]
    if command == "return_conclusion":
        # Back to where the conclusion was proposed from.
        return [
            SimpleNamespace(returns_to=s.value) for s in PERMISSIONS["propose_conclusion"].states
        ]
    return [SimpleNamespace()]


def _transitions() -> list[tuple[str, CaseState, CaseState]]:
    found = []
    for command, permission in PERMISSIONS.items():
        event_type = RECORDS[command]
        for before in sorted(permission.states):
            for data in _data_variants(command, before):
                after = state_after(event_type, data)
                found.append((command, before, after or before))
    return found


def test_every_command_names_an_event_of_the_case() -> None:
    assert set(RECORDS) == set(PERMISSIONS)
    event_types = {contract[0] for contract in CASE_CONTRACTS.values()}
    assert set(RECORDS.values()) | set(NOT_BY_COMMAND) == event_types


def test_every_state_changing_event_is_recorded_by_an_allowed_command() -> None:
    for event_type in set(FIXED) | DECIDED_BY_DATA:
        if event_type in NOT_BY_COMMAND:
            continue
        commands = [c for c, e in RECORDS.items() if e == event_type]
        assert commands, event_type
        assert any(PERMISSIONS[c].states for c in commands), event_type


def test_the_procedure_goes_on_from_every_state_a_transition_reaches() -> None:
    for command, before, after in _transitions():
        allowed_after = [c for c, p in PERMISSIONS.items() if after in p.states]
        assert allowed_after, (command, before, after)


def test_every_state_is_reached() -> None:
    reached = {after for _, _, after in _transitions()} | {state_after("CaseOpened", None)}
    assert reached == set(CaseState)


def test_a_returned_conclusion_can_be_proposed_again() -> None:
    for _, before, after in (t for t in _transitions() if t[0] == "return_conclusion"):
        assert before is S.CONCLUSION_PROPOSED
        assert after in PERMISSIONS["propose_conclusion"].states


def test_the_first_assignment_leads_to_a_disposition() -> None:
    ((_, _, after),) = [t for t in _transitions() if t[:2] == ("assign", S.OPEN)]
    assert after is S.ASSIGNED
    assert after in PERMISSIONS["propose_disposition"].states


def test_each_disposition_leads_where_its_work_is_allowed() -> None:
    next_command = {
        Disposition.TALK_INQUIRY: "send_inquiry_letter",
        Disposition.PRELIMINARY_VERIFICATION: "record_finding",
        Disposition.PARK: "review_parked",
        Disposition.CLOSE: "give_feedback",
        Disposition.TRANSFER_TO_DISCIPLINE: "record_discipline_result",
    }
    for disposition, command in next_command.items():
        after = state_after("DispositionApproved", SimpleNamespace(disposition=disposition.value))
        assert after in PERMISSIONS[command].states, disposition


def test_the_aggregate_and_the_projections_read_the_same_table() -> None:
    """Both import the one function; no module keeps a second copy of the transitions."""
    from services.casework.domain import disposition, record
    from services.projections.archive import projection as archive
    from services.projections.cases import projection as cases
    from services.projections.liaison import projection as liaison

    for module in (record, disposition, archive, cases, liaison):
        assert module.state_after is state_after


def test_a_legacy_returned_conclusion_reads_the_proposal_in_the_aggregate() -> None:
    """Stored before ``returns_to`` existed: the aggregate fills it in from the proposal it
    remembers (here an inquiry); readers of the published event take verification."""
    legacy = object.__new__(Case.ConclusionReturned)  # decoded without the field
    case = SimpleNamespace(proposed_conclusion={"returns_to": S.INQUIRY.value})
    assert state_after("ConclusionReturned", legacy.state_data(case)) is S.INQUIRY
    assert state_after("ConclusionReturned", SimpleNamespace(returns_to=None)) is S.VERIFICATION
    recorded = SimpleNamespace(returns_to=S.INQUIRY.value)
    assert state_after("ConclusionReturned", recorded) is S.INQUIRY
