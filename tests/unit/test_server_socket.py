"""The cooperative servers listen with TCP_NODELAY, and the connections they accept keep it.

Without it a keep-alive client waits ~40 ms for every response (Nagle + delayed ACK); the benchmark
found it (README, Performance).
"""

from __future__ import annotations

import socket

from queue_server.server import nodelay_listener


def test_accepted_connections_inherit_tcp_nodelay() -> None:
    listener = nodelay_listener("127.0.0.1", 0)
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        try:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        finally:
            accepted.close()
            client.close()
    finally:
        listener.close()
