#!/bin/sh
# Autobahn|Testsuite (fuzzing client, cases 1-7 and 10) against wsgi_sio's WebSocket layer.
#
#   sudo autobahn/run.sh            # run as root; not part of CI
#
# wstest runs on Python 2.7 only, so it lives in a Debian bullseye root made with debootstrap
# in autobahn/.root/ (git-ignored; built on the first run, reused afterwards). pip comes from
# bullseye's python-pip-whl (pip 20.3.4, the last release for 2.7), the suite and its
# dependencies from PyPI, pinned in autobahn/constraints-py27.txt. The echo endpoint
# (autobahn/echo_app.py) runs on the host in the project's venv; the chroot shares the host's
# network, so wstest reaches it on 127.0.0.1. Results: autobahn/reports/ (HTML, ignored) and
# the summary in autobahn/RESULTS.md.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT_DIR=$(cd "$HERE/.." && pwd)
CHROOT="$HERE/.root"
PYTHON="${PYTHON:-$ROOT_DIR/.venv/bin/python}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA=/etc/ssl/certs/ca-certificates.crt

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: needs root (debootstrap and chroot)" >&2
    exit 1
fi

in_chroot() {
    chroot "$CHROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PYTHONWARNINGS=ignore "$@"
}

# -- the bullseye root with wstest ---------------------------------------------------------------
if [ ! -x "$CHROOT/usr/local/bin/wstest" ]; then
    if [ ! -x "$CHROOT/usr/bin/python2" ]; then
        command -v debootstrap >/dev/null || apt-get install -y debootstrap
        debootstrap --variant=minbase --include=python2,python2.7,ca-certificates \
            bullseye "$CHROOT" "$MIRROR"
    fi
    cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
    # the host's CA bundle, so that PyPI is reachable through whatever the host trusts
    if [ -f "$HOST_CA" ]; then
        cp "$HOST_CA" "$CHROOT/etc/ssl/certs/host-ca-certificates.crt"
    else
        cp "$CHROOT/etc/ssl/certs/ca-certificates.crt" "$CHROOT/etc/ssl/certs/host-ca-certificates.crt"
    fi
    in_chroot apt-get update
    # python-pip-whl: Debian's pip 20.3.4 wheel; a compiler for wsaccel, zope.interface, Twisted
    in_chroot apt-get install -y --no-install-recommends python-pip-whl python2-dev \
        build-essential libffi-dev libssl-dev
    in_chroot python2 /usr/share/python-wheels/pip-20.3.4-py2.py3-none-any.whl/pip install \
        --no-cache-dir pip==20.3.4 setuptools==44.1.1 wheel==0.34.2
    cp "$HERE/constraints-py27.txt" "$CHROOT/tmp/constraints-py27.txt"
    in_chroot python2 -m pip install --no-cache-dir -c /tmp/constraints-py27.txt autobahntestsuite
fi

# -- the echo server -----------------------------------------------------------------------------
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="$HERE/reports/echo_server.log"
mkdir -p "$HERE/reports"
cd "$ROOT_DIR"
"$PYTHON" "$HERE/echo_app.py" "$PORT" >"$LOG" 2>&1 &
ECHO_PID=$!
trap 'kill "$ECHO_PID" 2>/dev/null || true' EXIT INT TERM
"$PYTHON" - "$PORT" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("echo server did not start")
        time.sleep(0.1)
EOF

# -- the fuzzing client --------------------------------------------------------------------------
rm -rf "$CHROOT/reports"
mkdir -p "$CHROOT/reports"
cat >"$CHROOT/reports/fuzzingclient.json" <<EOF
{
  "outdir": "/reports/servers",
  "servers": [{"agent": "wsgi_sio", "url": "ws://127.0.0.1:$PORT/"}],
  "cases": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"],
  "exclude-cases": ["9.*", "12.*", "13.*"],
  "exclude-agent-cases": {}
}
EOF
(cd "$CHROOT" && in_chroot sh -c 'cd /reports && wstest -m fuzzingclient -s fuzzingclient.json') \
    >"$HERE/reports/wstest.log" 2>&1 || { tail -30 "$HERE/reports/wstest.log"; exit 1; }

rm -rf "$HERE/reports/servers"
cp -r "$CHROOT/reports/servers" "$HERE/reports/servers"
"$PYTHON" "$HERE/summarise.py" "$HERE/reports/servers/index.json" "$HERE/RESULTS.md"
