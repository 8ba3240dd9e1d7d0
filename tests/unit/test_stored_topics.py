"""Every topic the applications store resolves in a process that only reads the log.

A relay, the projections worker's catch-up and ``jiandu verify`` read a service's log
without building its application (``bootstrap.build_log_reader``): the modules defining the
stored events must be imported for their topics to resolve. The demo stores every kind of
aggregate (reports, ledgers, cases, selections, candidacies, projects, document registers);
a fresh interpreter that imports what the log reader imports must resolve every topic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.bootstrap import EmbeddedSystem
from services.demo import seed
from services.demo.steps import DEMO_TODAY
from tests.unit.conftest import build_embedded, make_settings

RESOLVE = """
import json, sys
from eventsourcing.utils import resolve_topic
from services.common.application import import_event_modules
import_event_modules()
unresolved = []
for topic in json.loads(sys.stdin.read()):
    try:
        resolve_topic(topic)
    except Exception as error:  # noqa: BLE001 - reported back, whatever it is
        unresolved.append(f"{topic}: {error}")
print(json.dumps(unresolved))
"""


def stored_topics(system: EmbeddedSystem) -> set[str]:
    topics: set[str] = set()
    for app in (system.intake, system.casework):
        notifications = app.recorder.select_notifications(start=1, limit=10**6)
        topics |= {n.topic for n in notifications}
    return topics


def test_a_log_reader_resolves_every_stored_topic(tmp_path: Path) -> None:
    system = build_embedded(make_settings(tmp_path), DEMO_TODAY)
    try:
        seed(system, count=60)
        topics = stored_topics(system)
    finally:
        system.stop()
    kinds = {t.split(":")[1].split(".")[0] for t in topics}
    assert {"Candidacies", "SupervisionProject", "DocumentRegister", "Selection"} <= kinds

    resolved = subprocess.run(
        [sys.executable, "-c", RESOLVE],
        input=json.dumps(sorted(topics)),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert json.loads(resolved.stdout) == []
