"""The tests run offline: in-process connections past loopback are refused (pytest-socket), and
loopback still works (kernels, JupyterLab and Chromium talk to the tests over it)."""
import socket

import pytest
import pytest_socket


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_a_connection_past_loopback_is_refused_and_recorded():
    seen = pytest_socket.SocketConnectBlockedError.seen  # tests/conftest.py records refusals
    before = len(seen)
    with pytest.raises(pytest_socket.SocketConnectBlockedError, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed
    assert seen[before:] == ["192.0.2.1"]
    del seen[before:]  # a deliberate attempt, not a leak in the suite


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            conn, _ = server.accept()
            conn.close()
