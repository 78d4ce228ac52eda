"""How ``runserver_sio`` (and ``runserver_socketio``) start: gevent first, and broken code
survived as ``runserver`` survives it.

Two things must happen before ``django.setup()`` has run to its end, so a management command
(loaded after it) is too late for them:

* The standard library must be made cooperative (gevent's monkey-patching) before the project
  is imported. So the first time ``wsgi_sio.django`` is imported by a process whose command
  line runs one of these commands (its app config is imported while ``django.setup()``
  imports the apps, before any ``models.py``), the process re-executes the same command line
  with the patching done first: same process id, same arguments; the autoreloader's child
  does the same.
* ``manage.py runserver`` starts its autoreloader even when ``django.setup()`` fails (a
  SyntaxError in a ``models.py``, a bad setting): Django hard-codes that for the command
  named ``runserver``. The re-executed interpreter does the same for ours: a failing setup
  leaves an empty app registry, the command is still found, and its child raises the error
  and keeps watching the files until they are fixed. ``--noreload`` fails at once, as
  ``runserver --noreload`` does.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from typing import Any

from wsgi_sio import green

COMMANDS = ("runserver_sio", "runserver_socketio")

# Run as ``python -c`` by the re-executed interpreter: patch, then run the original main
# (manage.py or django-admin as a script, ``python -m django`` as a module) as __main__.
PATCHED_MAIN = (
    "import os, runpy, sys\n"
    # the main's sys.path before anything is imported: not -c's current directory
    "sys.path[0] = os.getcwd() if sys.argv[1] == 'module' "
    "else os.path.dirname(os.path.abspath(sys.argv[2]))\n"
    "from wsgi_sio import green\n"
    "green.patch_all()\n"
    "from wsgi_sio.django.reloading import survive_broken_setup\n"
    "kind, target = sys.argv[1:3]\n"
    "sys.argv = sys.argv[3:]\n"
    "survive_broken_setup(sys.argv)\n"
    "if kind == 'module':\n"
    "    runpy.run_module(target, run_name='__main__', alter_sys=True)\n"
    "else:\n"
    "    runpy.run_path(target, run_name='__main__')\n"
)


def serving_command(argv: list[str]) -> bool:
    """Whether ``argv`` runs one of our servers (Django's subcommand is always ``argv[1]``)."""
    return len(argv) > 1 and argv[1] in COMMANDS


def reexec_patched() -> None:
    """Replace this process by the same command line with gevent's patching done first."""
    import __main__

    spec = getattr(__main__, "__spec__", None)
    if spec is not None:
        name = spec.parent if spec.name.endswith("__main__") and spec.parent else spec.name
        target = ["module", name]
    elif os.path.exists(sys.argv[0]):
        target = ["script", sys.argv[0]]
    else:
        return  # an interpreter we cannot re-create: serve unpatched (handlers block more)
    options = [f"-W{o}" for o in sys.warnoptions]
    options += [f"-X{k}" if v is True else f"-X{k}={v}" for k, v in sys._xoptions.items()]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *options, "-c", PATCHED_MAIN, *target, *sys.argv])


def reexec_if_serving() -> None:
    """Called when ``wsgi_sio.django`` is imported: re-execute a server's unpatched process."""
    if serving_command(sys.argv) and not green.patched():
        reexec_patched()


def survive_broken_setup(argv: list[str]) -> None:
    """In the re-executed process of a server with the autoreloader: let ``django.setup()``
    fail as Django lets it fail for ``runserver`` (see the module's docstring)."""
    if not serving_command(argv) or "--noreload" in argv:
        return
    import django
    from django.apps import apps
    from django.core import management
    from django.utils import autoreload

    setup = django.setup
    find_commands = management.get_commands

    def tolerant_setup(set_prefix: bool = True) -> None:
        django.setup = setup   # once: later calls (the command's own) are Django's
        try:
            autoreload.check_errors(setup)(set_prefix)
        except Exception:  # noqa: BLE001 - any error: Django's runserver catches the same
            # Raised again by the command in the autoreloader's child, which then watches
            # the files (the broken one included) until a change restarts it.
            apps.all_models = defaultdict(dict)
            apps.app_configs = {}
            apps.apps_ready = apps.models_ready = apps.ready = True
            management.get_commands = commands_with_ours  # type: ignore[assignment]

    def commands_with_ours() -> dict[str, str]:
        return {**find_commands(), **{name: "wsgi_sio.django" for name in COMMANDS}}

    django.setup = tolerant_setup


def staticfiles_installed() -> bool:
    """``django.contrib.staticfiles`` is installed, also when a failed setup left the app
    registry empty (the command must still accept its options: ``--nostatic``)."""
    from django.apps import apps
    from django.conf import settings

    if apps.app_configs:
        return apps.is_installed("django.contrib.staticfiles")
    installed: Any = getattr(settings, "INSTALLED_APPS", ())
    return any(app == "django.contrib.staticfiles" or app.startswith("django.contrib.staticfiles.")
               for app in installed)
