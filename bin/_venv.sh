# Sourced by bin/test and bin/demo: make sure .venv exists and holds what the caller needs.
#
#   ensure_venv             requirements.txt (the runtime pins), then OpenShield itself, editable
#                           and without dependencies (`pip install --no-deps -e .`), so that
#                           .venv/bin/openshield exists and the code is importable from any cwd
#   ensure_venv emulator    the above, plus the lines of requirements-dev.txt marked "# emulator"
#                           (what tests/fakeazure needs; bin/demo)
#   ensure_venv dev         the above, plus requirements-dev.txt (test tools; bin/test)
#
# Each step re-installs only when its inputs changed: a stamp in .venv keeps the hash of the
# files it installed from (and of the checkout's path, which the editable install records).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

# _venv_hash FILE...: one hash over the checkout's path and the files' names and contents.
_venv_hash() {
    { echo "$ROOT"; (cd "$ROOT" && sha256sum "$@"); } | sha256sum | cut -d' ' -f1
}

# _venv_step NAME HASH MESSAGE PIP-ARGS...: pip install PIP-ARGS unless the stamp NAME says
# HASH was installed already.
_venv_step() {
    local name="$1" want="$2" message="$3" stamp="$VENV/.installed-$1"
    shift 3
    [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ] && return 0
    echo "$message" >&2
    "$PY" -m pip install -q "$@" >&2 || { echo "error: pip install $* failed" >&2; return 1; }
    echo "$want" > "$stamp"
}

ensure_venv() {
    local extra="${1:-}" want
    case "$extra" in
        ''|emulator|dev) ;;
        *) echo "error: ensure_venv: unknown extra '$extra' (emulator or dev)" >&2; return 2 ;;
    esac
    if [ ! -x "$PY" ]; then
        echo "creating $VENV" >&2
        python3 -m venv "$VENV" || { echo "error: python3 -m venv failed (apt-get install python3-venv?)" >&2; return 1; }
        "$PY" -m pip install -q --upgrade pip >&2
    fi
    want=$(_venv_hash requirements.txt) || return 1
    _venv_step requirements "$want" "installing requirements.txt into .venv" -r "$ROOT/requirements.txt" || return 1
    # pyproject.toml decides the console script and the packages; re-install when it changes
    want=$(_venv_hash requirements.txt pyproject.toml) || return 1
    _venv_step project "$want" "installing openshield into .venv (editable)" --no-deps -e "$ROOT" || return 1
    case "$extra" in
        emulator)
            local lines=()
            mapfile -t lines < <(sed -n 's/[[:space:]]*#[[:space:]]*emulator[[:space:]]*$//p' "$ROOT/requirements-dev.txt")
            [ "${#lines[@]}" -gt 0 ] || { echo "error: no '# emulator' lines in requirements-dev.txt" >&2; return 1; }
            want=$(_venv_hash requirements.txt requirements-dev.txt) || return 1
            _venv_step emulator "$want" "installing the emulator's requirements into .venv" "${lines[@]}" || return 1
            ;;
        dev)
            want=$(_venv_hash requirements.txt requirements-dev.txt) || return 1
            _venv_step dev "$want" "installing requirements-dev.txt into .venv" -r "$ROOT/requirements-dev.txt" || return 1
            ;;
    esac
}
