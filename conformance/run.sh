#!/bin/sh
# The official Engine.IO and Socket.IO conformance suites against wsgi_sio (see README.md).
#
#   conformance/run.sh ENGINEIO_PROTOCOL_CHECKOUT SOCKETIO_PROTOCOL_CHECKOUT
#   ENGINEIO_PROTOCOL_DIR=... SOCKETIO_PROTOCOL_DIR=... conformance/run.sh
#
# Each argument is a checkout of github.com/socketio/engine.io-protocol or
# socket.io-protocol (a git clone, or an unpacked archive of the pinned commit); pass ""
# (or leave the variable unset) to skip that suite. For each suite: check the pinned
# version, `npm install` in its test-suite/ if node_modules is missing, start
# `python -m wsgi_sio conformance.apps:<app>` on 127.0.0.1:$CONFORMANCE_PORT, run the suite's
# own mocha command, stop the server, print the counts. Logs (server and mocha) go to
# $CONFORMANCE_OUT (default: a new directory under /tmp).
#
# Environment: CONFORMANCE_PORT (default 3000, the port the suites hardcode; another port
# runs a copy of test-suite.js with its URL rewritten, next to the original, removed after),
# CONFORMANCE_ALLOW_UNPINNED=1 (run another version, with a warning), PYTHON (default
# .venv/bin/python), LOG_LEVEL (server, default info), SUITE_TIMEOUT (seconds, default 300),
# SERVER_ROOT (the directory holding the wsgi_sio/ and conformance/ to serve, default this
# checkout; e.g. an exported commit). The code served is recorded: its commit, and the diff
# of uncommitted changes to wsgi_sio/ saved in the logs.
# Exit status: 0 when every suite run passed entirely.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SERVER_ROOT=$(cd "${SERVER_ROOT:-$ROOT}" && pwd)
PORT="${CONFORMANCE_PORT:-3000}"
LOG_LEVEL="${LOG_LEVEL:-info}"
SUITE_TIMEOUT="${SUITE_TIMEOUT:-300}"

# The versions these files were written against; test-suite.js is also pinned by content.
ENGINEIO_COMMIT=f21de7b00ed09b3bbad2807db718ea5d6bc36aba
ENGINEIO_SHA256=1d13901dd6ee1ba9b70a5c5c8a19ff5da397eb0aa40ec892e813b9ff7ad6edf8
SOCKETIO_COMMIT=4f633dd6a4445492d57af3b27ddd2d336014f1f1
SOCKETIO_SHA256=9fc4abce7be55bcd8741a2c62d242f3eb85560d2b669c15f2fdd8abea9a0c30d

ENGINEIO_DIR="${1-${ENGINEIO_PROTOCOL_DIR:-}}"
SOCKETIO_DIR="${2-${SOCKETIO_PROTOCOL_DIR:-}}"
if [ -z "$ENGINEIO_DIR" ] && [ -z "$SOCKETIO_DIR" ]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
fi

OUT="${CONFORMANCE_OUT:-$(mktemp -d /tmp/wsgi_sio-conformance.XXXXXX)}"
mkdir -p "$OUT"
SERVER_PID=
PATCHED=

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
    if [ -n "$PATCHED" ]; then
        rm -f "$PATCHED"
        PATCHED=
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "run.sh: $*" >&2
    exit 2
}

check_pin() {  # name dir commit sha256
    suite="$2/test-suite/test-suite.js"
    [ -f "$suite" ] || die "$1: no $suite (is $2 a checkout of socketio/$1?)"
    problem=
    if head=$(git -C "$2" rev-parse HEAD 2>/dev/null); then
        [ "$head" = "$3" ] || problem="checkout is at $head, expected $3"
    fi
    sum=$(sha256sum "$suite" | cut -d' ' -f1)
    [ "$sum" = "$4" ] || problem="${problem:+$problem; }test-suite.js differs from the pinned one ($sum)"
    if [ -n "$problem" ]; then
        if [ "${CONFORMANCE_ALLOW_UNPINNED:-0}" = 1 ]; then
            echo "run.sh: warning: $1: $problem" >&2
        else
            die "$1: $problem (CONFORMANCE_ALLOW_UNPINNED=1 to run it anyway)"
        fi
    fi
}

port_free() {
    "$PYTHON" - "$PORT" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server: TIME_WAIT is fine
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

start_server() {  # app log
    port_free || die "port $PORT is in use: stop whatever listens there (or set CONFORMANCE_PORT)"
    (cd "$SERVER_ROOT" && exec "$PYTHON" -m wsgi_sio "conformance.apps:$1" --bind "127.0.0.1:$PORT" \
        --log-level "$LOG_LEVEL") >"$2" 2>&1 &
    SERVER_PID=$!
    tries=0
    until grep -q "serving on" "$2" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; die "the server did not start"; }
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || die "the server did not start within 10 s"
        sleep 0.1
    done
}

code_version() {  # name: which wsgi_sio the server runs (read as it starts)
    if head=$(git -C "$SERVER_ROOT" rev-parse --short HEAD 2>/dev/null); then
        changes=$(git -C "$SERVER_ROOT" status --porcelain -- wsgi_sio)
        if [ -z "$changes" ]; then
            echo "$head"
        else
            diff="$OUT/$1-wsgi_sio.diff"
            { git -C "$SERVER_ROOT" diff HEAD -- wsgi_sio
              git -C "$SERVER_ROOT" ls-files --others --exclude-standard -- wsgi_sio |
                  while read -r f; do git -C "$SERVER_ROOT" diff --no-index /dev/null "$f"; done
            } >"$diff"
            echo "$head + uncommitted changes to wsgi_sio/ (sha256 $(sha256sum <"$diff" | cut -c1-12), $diff)"
        fi
    else
        echo "$SERVER_ROOT (not a git checkout)"
    fi
}

RESULTS=
FAILED=0

run_suite() {  # name dir commit sha256 app
    name=$1 dir=$(cd "$2" && pwd) app=$5
    check_pin "$name" "$dir" "$3" "$4"
    suite_dir="$dir/test-suite"
    if [ ! -x "$suite_dir/node_modules/.bin/mocha" ]; then
        echo "== $name: npm install" >&2
        (cd "$suite_dir" && npm install) || die "$name: npm install failed"
    fi
    file=test-suite.js
    if [ "$PORT" != 3000 ]; then
        file=".wsgi_sio-test-suite-$PORT.js"
        PATCHED="$suite_dir/$file"
        sed "s#\"http://localhost:3000\"#\"http://localhost:$PORT\"#" "$suite_dir/test-suite.js" >"$PATCHED"
        grep -q "localhost:$PORT" "$PATCHED" || die "$name: could not rewrite the suite's URL"
    fi
    echo "== $name @ $(git -C "$dir" rev-parse --short HEAD 2>/dev/null || echo "(no git)")" \
         "against conformance.apps:$app on 127.0.0.1:$PORT"
    code=$(code_version "$name")
    echo "== wsgi_sio: $code"
    start_server "$app" "$OUT/$name-server.log"
    # the suite's own command ("test": "mocha test-suite.js"), default reporter
    (cd "$suite_dir" && timeout "$SUITE_TIMEOUT" node_modules/.bin/mocha "$file") \
        >"$OUT/$name-mocha.txt" 2>&1
    status=$?
    cleanup
    cat "$OUT/$name-mocha.txt"
    passing=$(sed -n 's/^ *\([0-9][0-9]*\) passing.*/\1/p' "$OUT/$name-mocha.txt" | head -n1)
    failing=$(sed -n 's/^ *\([0-9][0-9]*\) failing.*/\1/p' "$OUT/$name-mocha.txt" | head -n1)
    pending=$(sed -n 's/^ *\([0-9][0-9]*\) pending.*/\1/p' "$OUT/$name-mocha.txt" | head -n1)
    # The full titles of the failures, from the details after "N failing" ("  1) suite",
    # deeper lines, the test's own title ending with ":"). Mocha reports a test twice when it
    # fails twice (an uncaught error, then its promise settling): count distinct titles.
    distinct=$(awk '
        /^ *[0-9]+ failing/ { details = 1; next }
        details && /^  [0-9]+\) / { sub(/^  [0-9]+\) /, ""); title = $0; intitle = 1
                                     if (title ~ /:$/) { print substr(title, 1, length(title) - 1); intitle = 0 }
                                     next }
        intitle { sub(/^ +/, ""); title = title " > " $0
                  if ($0 ~ /:$/) { print substr(title, 1, length(title) - 1); intitle = 0 } }
    ' "$OUT/$name-mocha.txt" | sort -u)
    ndistinct=$(printf '%s' "$distinct" | grep -c . )
    line="$name (wsgi_sio $code):
    ${passing:-0} passing, ${failing:-0} failing (${ndistinct} distinct tests)"
    [ -n "$pending" ] && line="$line, $pending pending"
    [ "$status" = 124 ] && line="$line, TIMED OUT after ${SUITE_TIMEOUT}s"
    line="$line; mocha exit status $status"
    if grep -q ERR_MOCHA_MULTIPLE_DONE "$OUT/$name-mocha.txt"; then
        line="$line (mocha crashed after the summary: done() called multiple times)"
    fi
    if [ -n "$distinct" ]; then
        line="$line
$(printf '%s\n' "$distinct" | sed 's/^/    failed: /')"
    fi
    [ "$status" = 0 ] || FAILED=1
    RESULTS="$RESULTS$line
"
}

[ -n "$ENGINEIO_DIR" ] && run_suite engine.io-protocol "$ENGINEIO_DIR" "$ENGINEIO_COMMIT" \
    "$ENGINEIO_SHA256" engineio_app
[ -n "$SOCKETIO_DIR" ] && run_suite socket.io-protocol "$SOCKETIO_DIR" "$SOCKETIO_COMMIT" \
    "$SOCKETIO_SHA256" socketio_app

echo
echo "== summary (logs in $OUT)"
printf '%s' "$RESULTS"
exit "$FAILED"
