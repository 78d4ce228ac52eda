"""Which processes of this host may hand connections to each other: the group.

(Being built for issue 11; see docs/design/sessions-across-workers.md §3.)
"""

from __future__ import annotations

#: the pid of the ``python -m wsgi_sio --workers N`` master this process was forked from
_prefork_master: int | None = None


def set_prefork_master(pid: int | None) -> None:
    """Called in each child of ``python -m wsgi_sio --workers N`` right after the fork: the
    children of one master form a group and hand sessions' connections to each other."""
    global _prefork_master
    _prefork_master = pid
