"""Where each write service keeps its events: eventsourcing's environment per mode."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from services.common.settings import ServiceName, Settings


def eventstore_env(settings: Settings, service: ServiceName) -> dict[str, str]:
    """eventsourcing environment: PostgreSQL schema ``service`` or ``data_dir/service.sqlite``."""
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000", "IS_SNAPSHOTTING_ENABLED": "y"}
    url = settings.database_for(service)
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / f"{service}.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        return env
    info = conninfo_to_dict(url)
    env |= {
        # `jiandu migrate` creates the schema and the tables (services/migrate.py); a process
        # creating them at start raced the others ("tuple concurrently updated").
        "CREATE_TABLE": "n",
        # eventsourcing's PostgreSQL persistence on a pool that never hands out a dead
        # connection, and a connection within 5 s or DatabaseUnavailable (0018).
        "PERSISTENCE_MODULE": "services.common.pgpool:PostgresFactory",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_DBNAME": str(info.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_SCHEMA": service,
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
    }
    # Never POSTGRES_ENABLE_DB_FUNCTIONS: in eventsourcing 9.5.6 its insert function takes
    # no table lock (ids may become visible out of order, and a relay would skip one) and
    # drops tracking records (a process application would lose exactly-once). See 0004.
    return env
