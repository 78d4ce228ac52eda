"""wsgi_sio.green.runtime and .serving, and the choice between runtimes (runtime_choice).

The capabilities the engine asks instead of a runtime's name, the choice made from where the
caller runs, a threaded process that never loads gevent, and the engines ``serve()`` drains
found behind the wrappers Django and wsgi_sio put around them.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import gevent
import pytest

import wsgi_sio
from tests.support.live import ROOT
from wsgi_sio import green, runtime_choice
from wsgi_sio.middleware import SocketIOMiddleware
from wsgi_sio.runtime import Runtime


def test_each_runtime_says_what_its_server_can_do() -> None:
    assert runtime_choice.detect("threading").honours_connection_close is False
    assert runtime_choice.detect("gevent").honours_connection_close is True
    assert isinstance(runtime_choice.detect("gevent"), green.GeventRuntime)
    with pytest.raises(ValueError, match="unknown async_mode 'eventlet'"):
        runtime_choice.detect("eventlet")


def test_the_runtime_follows_where_the_caller_runs() -> None:
    chosen: list[Runtime] = []
    greenlet = gevent.spawn(lambda: chosen.append(runtime_choice.detect()))
    greenlet.join(timeout=5)
    thread = threading.Thread(target=lambda: chosen.append(runtime_choice.detect()))
    thread.start()
    thread.join(timeout=5)
    assert [type(rt) for rt in chosen] == [green.GeventRuntime, Runtime]


def test_a_threaded_server_never_imports_gevent() -> None:
    code = ("import sys, wsgi_sio\n"
            "sio = wsgi_sio.Server()\n"
            "app = wsgi_sio.SocketIOMiddleware(None, sio)\n"
            "assert sio.engine.runtime.name == 'threading'\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('gevent', 'geventwebsocket'))\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


class _Wrapper:
    """A WSGI wrapper that keeps the app it wraps as ``application`` (Django's static files
    handler does)."""

    def __init__(self, application: Any) -> None:
        self.application = application


def test_serve_finds_the_engines_behind_the_wrappers() -> None:
    sio = wsgi_sio.Server(async_mode="threading")
    middleware = SocketIOMiddleware(None, sio)
    assert green.engines_of(middleware) == [sio.engine]
    assert green.engines_of(_Wrapper(middleware)) == [sio.engine]
    assert green.engines_of(SocketIOMiddleware(_Wrapper(None), sio)) == [sio.engine]
    engine = wsgi_sio.EngineServer(async_mode="threading")
    assert green.engines_of(_Wrapper(engine)) == [engine]
    assert green.engines_of(_Wrapper(lambda environ, start_response: [])) == []
