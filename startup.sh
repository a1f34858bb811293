#!/usr/bin/env bash
# App Service startup command: migrate, keep a supervisor running, serve the API on $PORT.
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

"$PY" -m cli db upgrade

# The supervisor is restarted whenever it exits: scans keep running meanwhile (they are
# detached), and a restarted supervisor settles whatever happened while it was away.
(
    while true; do
        "$PY" -m supervisor && rc=0 || rc=$?
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
