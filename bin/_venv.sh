# Sourced by bin/test and bin/demo: make sure .venv exists and matches requirements.txt.
# Re-installs only when requirements.txt changed (a stamp keeps its hash).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
ensure_venv() {
    local want have
    if [ ! -x "$PY" ]; then
        echo "creating $VENV" >&2
        python3 -m venv "$VENV" || { echo "error: python3 -m venv failed (apt-get install python3-venv?)" >&2; return 1; }
        "$PY" -m pip install -q --upgrade pip >&2
    fi
    want=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
    have=$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        echo "installing requirements.txt into .venv" >&2
        "$PY" -m pip install -q -r "$ROOT/requirements.txt" >&2 || { echo "error: pip install failed" >&2; return 1; }
        echo "$want" > "$VENV/.requirements.sha256"
    fi
}
