"""The sans-IO protocol core of wsgi_sio.

Everything below this package turns bytes into protocol events and protocol events into
bytes, and keeps the state of an Engine.IO session. Nothing here imports gevent, a socket
or Django, and nothing reads a clock: time is passed in. That keeps the protocol testable
byte for byte and lets the transports stay thin.
"""
