"""A socket module with a genuine ImportError inside: discovery must not swallow it."""

import wsgi_sio_no_such_module_for_tests  # noqa: F401
