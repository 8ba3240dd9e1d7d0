"""``jiandu verify`` checks each supervision project's hash chain too: a project's stored
event altered in the database (its approved conclusion's verdict) is found at that event,
beside an intact project."""

from __future__ import annotations

import json
import sqlite3
from uuid import UUID

from services.casework.application import CaseworkApplication
from services.casework.chain import chained_kind, verify_chain, verify_log
from services.common.settings import Settings
from tests.unit.test_selection_chain import stored
from tests.unit.test_supervision_project import PATH, open_project

TOPIC = "jiandu.casework:SupervisionProject."


def saved_project(app: CaseworkApplication) -> UUID:
    project = open_project()
    for step, _ in PATH:
        step(project)
    app.save(project)  # every event pending since the opening
    return project.id


def test_an_intact_project_verifies(casework: CaseworkApplication) -> None:
    project_id = saved_project(casework)
    events = list(casework.events.get(project_id))

    assert len(events) == 1 + len(PATH)
    assert verify_chain(project_id, events) is None
    assert verify_log(casework) == (1, [])


def test_an_altered_project_event_is_found_at_that_event(
    casework: CaseworkApplication, settings: Settings
) -> None:
    project_id = saved_project(casework)
    other_id = saved_project(casework)
    # The approval (the 6th event) is said to have found the irregularity untrue.
    table, topic, state = stored(settings, project_id, 6)
    assert topic == f"{TOPIC}ConclusionApproved"
    assert state["verdict"] == "true"
    state["verdict"] = "untrue"
    with sqlite3.connect(settings.data_dir / "casework.sqlite") as db:
        updated = db.execute(
            f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = 6",
            (json.dumps(state, ensure_ascii=False).encode(), project_id.hex),
        ).rowcount
    assert updated == 1
    reader = CaseworkApplication(casework.env)  # a fresh reader of the same store

    checked, broken = verify_log(reader)

    assert checked == 2
    assert [(b.aggregate_id, b.version, b.topic) for b in broken] == [
        (project_id, 6, f"{TOPIC}ConclusionApproved")
    ]
    assert "altered" in broken[0].reason
    assert chained_kind(broken[0].topic) == "project"
    assert other_id not in {b.aggregate_id for b in broken}
    reader.close()
