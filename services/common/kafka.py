"""Kafka helpers shared by the relay, consumers and the command line."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


def ensure_topics(
    bootstrap: str, names: Sequence[str], partitions: int, replication_factor: int = 1
) -> dict[str, str]:
    """Create the topics if missing (a broker that auto-creates would pick its own count).
    Returns what became of each topic: ``created`` or ``exists``."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin: Any = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="jiandu-admin")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        outcome = {n: "exists" if n in existing else "created" for n in names}
        if missing:
            try:
                admin.create_topics([NewTopic(n, partitions, replication_factor) for n in missing])
            except TopicAlreadyExistsError:
                log.info("topics were created concurrently")
                outcome.update(dict.fromkeys(missing, "exists"))
    finally:
        admin.close()
    return outcome
