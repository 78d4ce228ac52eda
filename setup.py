"""Shim for tools that still call setup.py; the metadata lives in pyproject.toml.

It adds one build step: the socket.io-client that ``{% socketio_client %}`` serves
(``wsgi_sio/django/static/wsgi_sio/socket.io.min.js`` and its map) is fetched from npm at build
time (never committed), and every build checks it against the sha256 pinned in
``wsgi_sio/django/js/SHA256SUMS``. An sdist carries the files, so building a wheel from it
needs no npm; a build from a git checkout without npm gets a package without the client (a
warning says so) rather than a failed install.
"""
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
JS = HERE / "wsgi_sio" / "django" / "js"
STATIC = HERE / "wsgi_sio" / "django" / "static" / "wsgi_sio"


def pinned() -> dict[str, str]:
    sums = {}
    for line in (JS / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    return sums


def fetch_client(names: list[str]) -> bool:
    """npm ci the pinned socket.io-client and copy its dist files into static/; False if no npm."""
    npm = shutil.which("npm")
    if npm is None:
        return False
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS, check=True)
    STATIC.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(JS / "node_modules" / "socket.io-client" / "dist" / name, STATIC / name)
    return True


def ensure_client() -> None:
    sums = pinned()
    missing = [name for name in sums if not (STATIC / name).exists()]
    if missing and not fetch_client(list(sums)):
        sys.stderr.write("warning: npm not found and socket.io-client not in "
                         f"{STATIC.relative_to(HERE)}: the package is built without the client "
                         "JavaScript ({% socketio_client %} will 404); build it with `make dist`\n")
        return
    for name, digest in sums.items():
        actual = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        if actual != digest:
            raise SystemExit(f"error: {STATIC / name}: sha256 {actual}, expected {digest} "
                             "(wsgi_sio/django/js/SHA256SUMS)")


class BuildPyWithClient(build_py):
    def run(self) -> None:
        ensure_client()
        super().run()


class SdistWithClient(sdist):
    def run(self) -> None:
        ensure_client()
        super().run()


setup(cmdclass={"build_py": BuildPyWithClient, "sdist": SdistWithClient})
