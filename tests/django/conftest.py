"""Django tests: pytest-django, with the test project of tests/django/settings.py
(DJANGO_SETTINGS_MODULE in pyproject.toml). Its apps' socket modules are found by discovery."""

from typing import Any

import pytest

from wsgi_sio.django import get_wsgi_application

from .sockapp.sockets import seen


@pytest.fixture
def application() -> Any:
    """The project's WSGI application, as wsgi.py makes it: Django under the Socket.IO middleware."""
    while not seen.empty():
        seen.get_nowait()
    return get_wsgi_application()
