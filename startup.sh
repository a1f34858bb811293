#!/usr/bin/env bash
# App Service startup command: check the settings, migrate, keep a supervisor running (for as
# long as gunicorn runs), serve the API on $PORT.
# App Service (Oryx) activates the app's virtualenv before running this; locally .venv is used.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x .venv/bin/python ]; then
    PY=.venv/bin/python
elif command -v python >/dev/null; then
    PY=python
else
    PY=python3
fi

# Every setting first: a missing JWT_SECRET stops here with one line, before the database is
# migrated or a supervisor started (the command prints what is missing).
"$PY" -m cli config check --quiet || exit 1

"$PY" -m cli db upgrade

# The supervisor is restarted whenever it exits: scans keep running meanwhile (they are
# detached), and a restarted supervisor settles whatever happened while it was away.
# This script's pid becomes gunicorn's (exec below), the parent of the loop: once the loop's
# parent is another process, gunicorn has exited, and the loop stops its supervisor and ends.
SERVER_PID=$$
(
    loop_pid=$BASHPID  # (inside $(...) BASHPID would name the substitution's own process)
    server_alive() { [ "$(cut -d' ' -f4 "/proc/$loop_pid/stat")" = "$SERVER_PID" ]; }
    supervisor_pid=""
    trap '[ -n "$supervisor_pid" ] && kill -TERM "$supervisor_pid" 2>/dev/null; exit 0' TERM INT
    while server_alive; do
        "$PY" -m supervisor &
        supervisor_pid=$!
        while kill -0 "$supervisor_pid" 2>/dev/null && server_alive; do sleep 1; done
        if ! server_alive; then
            kill -TERM "$supervisor_pid" 2>/dev/null || true
            wait "$supervisor_pid" 2>/dev/null || true
            echo "startup.sh: gunicorn exited; supervisor stopped" >&2
            exit 0
        fi
        wait "$supervisor_pid" && rc=0 || rc=$?
        echo "startup.sh: supervisor exited with code $rc; restarting in 2 s" >&2
        sleep 2
    done
) &

exec "$PY" -m gunicorn \
    --bind "0.0.0.0:${PORT:-8000}" \
    --worker-class gthread \
    --workers "${GUNICORN_WORKERS:-2}" \
    --threads "${GUNICORN_THREADS:-8}" \
    --timeout 60 \
    --access-logfile - \
    api.app:application
