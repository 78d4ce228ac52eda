"""Turning connection state recovery on: the server's option and what it asks of a manager."""

import pytest

import wsgi_sio
from wsgi_sio.managers.recovery import RecoveryOptions


class RoomsOnly(wsgi_sio.InProcessManager):
    """A manager that cannot recover sessions (as a third-party one might be)."""

    enable_recovery = None  # type: ignore[assignment]


def test_off_by_default():
    server = wsgi_sio.Server()
    assert server.recovery is None and server.manager.recovery is None


def test_on_with_seconds_and_the_manager_keeps_sessions():
    server = wsgi_sio.Server(connection_state_recovery={"max_disconnection_duration": 5})
    assert server.recovery == RecoveryOptions(max_disconnection_duration=5)
    assert server.manager.recovery is not None


def test_a_manager_without_recovery_is_refused():
    with pytest.raises(TypeError, match="cannot recover"):
        wsgi_sio.Server(manager=RoomsOnly(), connection_state_recovery=True)


def test_unknown_keys_are_refused():
    with pytest.raises(TypeError, match="unknown connection_state_recovery keys"):
        wsgi_sio.Server(connection_state_recovery={"maxDisconnectionDuration": 120000})
