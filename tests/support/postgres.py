"""A throwaway PostgreSQL server for integration tests.

``ThrowawayPostgres`` runs ``initdb`` into a fresh temporary directory and starts
a private server with ``pg_ctl`` on a free ``127.0.0.1`` port (its unix socket
lives inside the temporary directory), so a server that is already running on
5432 is never touched. Durability is switched off (``fsync``,
``synchronous_commit``, ``full_page_writes``) because the data is thrown away.

PostgreSQL refuses to run as root, so when the tests run as root the data
directory is handed to the ``postgres`` system user and the server binaries are
run through ``runuser -u postgres --``.

If ``JIANDU_TEST_POSTGRES_URL`` is set (for example
``postgresql://postgres@127.0.0.1:5432/postgres``), that server is used instead
and nothing is started or stopped; the role in the URL needs ``CREATEDB``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ENV_URL = "JIANDU_TEST_POSTGRES_URL"
SERVER_USER = "postgres"  # the database superuser created by initdb -U
SYSTEM_USER = "postgres"  # the OS account that runs the server when we are root
START_TIMEOUT_S = 30.0

_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL could not be found or started."""


def find_postgres_bindir() -> Path:
    """Return the directory holding ``initdb``/``pg_ctl``/``postgres``."""
    try:
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    if out and (Path(out) / "initdb").is_file():
        return Path(out)

    def version_key(path: str) -> tuple[int, ...]:
        version = Path(path).parent.name
        return tuple(int(p) for p in version.split(".") if p.isdigit())

    candidates = [
        d for d in glob.glob("/usr/lib/postgresql/*/bin") if (Path(d) / "initdb").is_file()
    ]
    if candidates:
        return Path(max(candidates, key=version_key))
    raise PostgresUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found: neither "
        "`pg_config --bindir` nor /usr/lib/postgresql/*/bin has initdb. Install the "
        "PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`) or point the "
        f"tests at an existing server with {ENV_URL}=postgresql://USER@HOST:PORT/postgres"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=True,
        )
        return pwd.getpwnam(name)
    except (OSError, subprocess.CalledProcessError, KeyError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise PostgresUnavailableError(
            f"The tests run as root, and PostgreSQL refuses to run as root; creating the "
            f"system user {name!r} to run it failed: {detail}. Create it "
            f"(`useradd --system {name}`), run the tests as a normal user, or set {ENV_URL}."
        ) from exc


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ThrowawayPostgres:
    """A private PostgreSQL server in a temp dir, or an external one via env var."""

    def __init__(self, external_url: str | None = None) -> None:
        self.external_url = external_url if external_url is not None else os.environ.get(ENV_URL)
        self.port: int | None = None
        self.basedir: Path | None = None
        self._bindir: Path | None = None
        self._run_as: list[str] = []
        self._running = False

    # ------------------------------------------------------------------ paths
    @property
    def datadir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "data"

    @property
    def sockdir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "sock"

    @property
    def logfile(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "postgres.log"

    # -------------------------------------------------------------- lifecycle
    def start(self) -> ThrowawayPostgres:
        if self.external_url:
            self._wait_ready(self.dsn("postgres"), log=None)
            return self
        if self._running:
            return self
        self._bindir = find_postgres_bindir()
        self.basedir = Path(tempfile.mkdtemp(prefix="jiandu-pg-", dir="/tmp"))
        try:
            os.chmod(self.basedir, 0o755)
            self.sockdir.mkdir(mode=0o755)
            if os.geteuid() == 0:
                if shutil.which("runuser") is None:
                    raise PostgresUnavailableError(
                        "Running as root needs `runuser` (util-linux) to start PostgreSQL "
                        f"as the {SYSTEM_USER!r} user; install it or set {ENV_URL}."
                    )
                user = _ensure_system_user(SYSTEM_USER)
                for path in (self.basedir, self.sockdir):
                    os.chown(path, user.pw_uid, user.pw_gid)
                self._run_as = ["runuser", "-u", SYSTEM_USER, "--"]
            self._initdb()
            self._start_server()
        except BaseException:
            self._cleanup()
            raise
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        if self.external_url or self.basedir is None:
            return
        if self._running:
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30", check=False)
            self._running = False
        self._cleanup()

    # ------------------------------------------------------- outages (fault tests)
    def _own_server(self, what: str) -> None:
        if self.external_url or self.basedir is None or self.port is None:
            raise PostgresUnavailableError(
                f"ThrowawayPostgres.{what}() needs a server started here, not {ENV_URL}: "
                "the tests cannot stop someone else's server"
            )

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server (``pg_ctl stop -m mode``), keeping its data and port for
        ``start_server``: every open connection is closed (``AdminShutdown`` on ``fast``)."""
        self._own_server("stop_server")
        self._pg_ctl("stop", "-m", mode, "-w", "-t", "30")
        self._running = False

    def start_server(self) -> None:
        """Start the stopped server again on the same port."""
        self._own_server("start_server")
        timeout = str(int(START_TIMEOUT_S))
        self._pg_ctl("start", "-w", "-t", timeout, "-l", str(self.logfile), "-o", f"-p {self.port}")
        self._running = True
        self._wait_ready(self.dsn("postgres"), log=self.logfile)

    def restart(self, mode: str = "fast") -> float:
        """``pg_ctl restart -m MODE`` on the same port; seconds until it accepts connections.

        ``fast`` rolls back open transactions and disconnects every client (their next
        statement fails with ``AdminShutdown`` or a broken connection), as a server restarted
        by its operator does. Not possible on an external server (``JIANDU_TEST_POSTGRES_URL``).
        """
        if self.external_url or not self._running or self.port is None:
            raise PostgresUnavailableError(
                "restart() needs the private server this class started; an external server "
                f"({ENV_URL}) cannot be restarted by the tests"
            )
        started = time.monotonic()
        timeout = str(int(START_TIMEOUT_S))
        self._pg_ctl(
            "restart", "-m", mode, "-w", "-t", timeout, "-l", str(self.logfile),
            "-o", f"-p {self.port}",
        )  # fmt: skip
        self._wait_ready(self.dsn("postgres"), log=self.logfile)
        return time.monotonic() - started

    def _cleanup(self) -> None:
        if self.basedir is not None:
            shutil.rmtree(self.basedir, ignore_errors=True)
            self.basedir = None

    def _run(self, cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.basedir is not None
        proc = subprocess.run(
            [*self._run_as, *cmd],
            cwd=self.basedir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            raise PostgresUnavailableError(
                f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                f"\n--- server log tail ---\n{_tail(self.logfile)}"
            )
        return proc

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self._bindir is not None
        return self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(self.datadir), *args], check=check
        )

    def _initdb(self) -> None:
        assert self._bindir is not None
        self._run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        conf = "".join(f"{key} = '{value}'\n" for key, value in _SERVER_SETTINGS.items())
        conf += f"unix_socket_directories = '{self.sockdir}'\n"
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write("\n# jiandu test settings\n" + conf)

    def _start_server(self) -> None:
        last_error: Exception | None = None
        for _attempt in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            timeout = str(int(START_TIMEOUT_S))
            options = f"-p {self.port}"
            proc = self._pg_ctl(
                "start", "-w", "-t", timeout, "-l", str(self.logfile), "-o", options, check=False
            )
            if proc.returncode == 0:
                self._running = True
                self._wait_ready(self.dsn("postgres"), log=self.logfile)
                return
            last_error = PostgresUnavailableError(
                f"pg_ctl start failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                f"\n--- server log tail ---\n{_tail(self.logfile)}"
            )
            self._pg_ctl("stop", "-m", "immediate", check=False)
            if "could not bind" not in _tail(self.logfile, 200).lower():
                break
        assert last_error is not None
        raise last_error

    @staticmethod
    def _wait_ready(dsn: str, log: Path | None) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(dsn, connect_timeout=3) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    tail = _tail(log) if log else "(external server)"
                    raise PostgresUnavailableError(
                        f"PostgreSQL at {dsn} did not accept connections within "
                        f"{START_TIMEOUT_S:.0f}s: {exc}\n--- server log tail ---\n{tail}"
                    ) from exc
                time.sleep(0.1)

    # ------------------------------------------------------------------ DSNs
    def dsn(self, dbname: str) -> str:
        """A libpq URL for database *dbname* on this server."""
        if self.external_url:
            parts = urlsplit(self.external_url)
            return urlunsplit(parts._replace(path="/" + dbname))
        if self.port is None:
            raise PostgresUnavailableError("ThrowawayPostgres.dsn() called before start()")
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{dbname}"

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh database (default name ``jt_<hex>``) and return its name."""
        name = name or f"jt_{uuid.uuid4().hex}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """Create a database ``jt_<hex>``, yield its DSN, drop it (``WITH (FORCE)``) afterwards."""
        name = self.create_database()
        try:
            yield self.dsn(name)
        finally:
            self.drop_database(name)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
