"""A TCP proxy on 127.0.0.1 that a test can cut: the clients' route to a server goes away
while the server itself keeps running (and keeps its state).

The fault suite puts one in front of the Tansu broker, whose in-memory topics a restart
would lose: the broker advertises the proxy's port (``TansuBroker(advertised_port=...)``),
so every client connection, after the bootstrap too, goes through it. ``pause()`` closes
the listening socket (new connections are refused) and drops every open connection;
``resume()`` listens again on the same port.

Threads, not asyncio: two small copying threads per connection are plenty for the few
dozen connections of a test, and the proxy lives beside the test's own threads.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.support.postgres import free_port

BUFFER = 64 * 1024
BIND_TIMEOUT_S = 10.0


class TcpProxy:
    """Forwards ``127.0.0.1:listen_port`` to ``target_host:target_port``."""

    def __init__(self, target_port: int, listen_port: int | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = listen_port if listen_port is not None else free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._accepting: threading.Thread | None = None
        self.accepted = 0  # connections forwarded, for the test's figures
        self.dropped = 0  # open connections cut by pause()

    @property
    def paused(self) -> bool:
        return self._listener is None

    def start(self) -> TcpProxy:
        return self.resume()

    def resume(self) -> TcpProxy:
        """Listen (again) on the same port; waits until the port can be bound."""
        with self._lock:
            if self._listener is not None:
                return self
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            deadline = time.monotonic() + BIND_TIMEOUT_S
            while True:
                try:
                    listener.bind(("127.0.0.1", self.port))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        listener.close()
                        raise
                    time.sleep(0.1)
            listener.listen(128)
            listener.settimeout(0.2)  # the accepting thread notices a pause
            self._listener = listener
            self._accepting = threading.Thread(
                target=self._accept, args=(listener,), name=f"proxy-{self.port}", daemon=True
            )
            self._accepting.start()
        return self

    def pause(self) -> None:
        """Refuse new connections and cut every open one (both sides see it closed)."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            _close(listener)
        for connection in connections:
            _close(connection)
        self.dropped += len(connections) // 2
        if self._accepting is not None:
            self._accepting.join(timeout=5)
            self._accepting = None

    def close(self) -> None:
        self.pause()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by pause()
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)  # the server is not there: the client sees the connection end
                continue
            with self._lock:
                if self._listener is not listener:  # paused meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._connections |= {client, upstream}
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(BUFFER)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)
            _close(source)
            _close(sink)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
