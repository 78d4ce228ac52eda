"""What the WebTest-driven tests share: a GET that may block (a long-poll), bounded in time."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest


def bounded_get(app: webtest.TestApp, url: str, timeout: float = 5.0,
                expect_errors: bool = False) -> webtest.TestResponse:
    """``app.get(url)`` in a thread, failing the test if it is still pending after ``timeout``.

    A long-polling GET blocks until the server has something to say; running it in a thread
    lets a test wait for it with a bound instead of hanging.
    """
    box: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            box.append(webtest.TestApp(app.app).get(url, expect_errors=expect_errors))
        except BaseException as exc:  # noqa: BLE001 - deliberate, see below
            # Everything, pytest's outcomes (BaseException) included, is handed back and
            # re-raised in the test thread, where it fails the test as if the GET ran there.
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(timeout):
        pytest.fail(f"GET {url} still pending after {timeout} s")
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]
