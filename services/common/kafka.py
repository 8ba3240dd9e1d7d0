"""Kafka helpers shared by the relay, consumers and the command line."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


def ensure_topics(
    bootstrap: str, names: Sequence[str], partitions: int, replication_factor: int = 1
) -> None:
    """Create the topics if missing (a broker that auto-creates would pick its own count)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin: Any = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="jiandu-admin")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                admin.create_topics([NewTopic(n, partitions, replication_factor) for n in missing])
            except TopicAlreadyExistsError:
                log.info("topics were created concurrently")
    finally:
        admin.close()
