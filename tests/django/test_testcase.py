"""SocketIOTestClient inside Django's TestCase: the handlers run on the test's own thread,
with its connection and transaction, in order; so they see what the test wrote and the test
sees what they wrote (no "database table is locked" from a second connection)."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase

from wsgi_sio.django import get_wsgi_application
from wsgi_sio.testing import SocketIOTestClient

from .sockapp.sockets import seen


class HandlersInTheTestsTransaction(TestCase):
    def setUp(self):
        while not seen.empty():
            seen.get_nowait()
        self.app = get_wsgi_application()
        self.ann = get_user_model().objects.create_user("ann", password="x")

    def test_a_handler_reads_and_writes_the_tests_data(self):
        with SocketIOTestClient(self.app, "/private", user=self.ann) as client:
            assert seen.get_nowait()[0] == "connect"  # on_connect ran before connect() returned
            assert client.call("rename", "Ann") == "Ann"
            assert seen.get_nowait() == ("rename", threading.get_ident())
            client.emit("rename", "Anna")  # no ack: still run before emit returns, in order
            assert seen.get_nowait() == ("rename", threading.get_ident())
            assert client.call("whoami")["user"] == "ann"
        self.ann.refresh_from_db()
        assert self.ann.first_name == "Anna"  # the test sees the handler's write
        assert get_user_model().objects.count() == 1

    def test_several_clients_of_one_test(self):
        bob = get_user_model().objects.create_user("bob", password="x")
        with SocketIOTestClient(self.app, "/private", user=self.ann) as ann, \
                SocketIOTestClient(self.app, "/private", user=bob) as other:
            assert ann.call("rename", "A") == "A"
            assert other.call("rename", "B") == "B"
            assert other.call("db") == 2
        assert sorted(get_user_model().objects.values_list("first_name", flat=True)) == ["A", "B"]


@pytest.mark.django_db  # pytest-django's TestCase: one transaction around the test
def test_pytest_django_db_runs_handlers_inline(django_user_model, application):
    ann = django_user_model.objects.create_user("ann", password="x")
    with SocketIOTestClient(application, "/private", user=ann) as client:
        assert client.call("rename", "Zed") == "Zed"
    ann.refresh_from_db()
    assert ann.first_name == "Zed"
