"""Shim for tools that still call setup.py; the metadata lives in pyproject.toml.

It adds one build step: the socket.io-client that ``{% socketio_client %}`` serves
(``wsgi_sio/django/static/wsgi_sio/socket.io.min.js`` and its map), and the 0.9.16 client that
``{% socketio %}`` serves to pages still on the 0.9 API, are fetched from npm at build time
(never committed), and every build checks them against the sha256 pinned in
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
STATIC = HERE / "wsgi_sio" / "django" / "static" / "wsgi_sio"
#: where each client comes from: its npm package folder, and (file in static/, file in dist/)
SOURCES = {
    HERE / "wsgi_sio" / "django" / "js": [("socket.io.min.js", "socket.io.min.js"),
                                           ("socket.io.min.js.map", "socket.io.min.js.map")],
    # socket.io-client 0.9.16 for pages still on the 0.9 API (wsgi_sio.legacy09)
    HERE / "wsgi_sio" / "legacy09" / "js": [("socket.io-0.9.16.min.js", "socket.io.min.js")],
}
SUMS = HERE / "wsgi_sio" / "django" / "js" / "SHA256SUMS"


def pinned() -> dict[str, str]:
    sums = {}
    for line in SUMS.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    return sums


def fetch_clients(missing: set[str]) -> bool:
    """npm install the pinned packages that provide ``missing`` files and copy their dist
    files into static/; False if there is no npm."""
    npm = shutil.which("npm")
    if npm is None:
        return False
    STATIC.mkdir(parents=True, exist_ok=True)
    for folder, files in SOURCES.items():
        if not missing & {name for name, _ in files}:
            continue
        command = ["ci"] if (folder / "package-lock.json").exists() else ["install"]
        subprocess.run([npm, *command, "--ignore-scripts", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=folder, check=True)
        for name, dist in files:
            shutil.copyfile(folder / "node_modules" / "socket.io-client" / "dist" / dist, STATIC / name)
    return True


def ensure_client() -> None:
    sums = pinned()
    missing = {name for name in sums if not (STATIC / name).exists()}
    if missing and not fetch_clients(missing):
        sys.stderr.write("warning: npm not found and the socket.io clients not in "
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
