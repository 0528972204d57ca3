# Shared by scripts/run and scripts/test: create .venv with Python >= 3.11 and install the
# project with the pinned versions in constraints.txt (reinstalls only when they change).

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: expert-match needs Python 3.11 or newer (python3.11 not found)" >&2
    return 1
}

ensure_venv() {
    local extras="$1"
    local python
    python=$(find_python)
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv with $python"
        "$python" -m venv .venv
    fi
    local stamp=".venv/.installed${extras}"
    local digest
    digest=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "installing expert-match${extras} into .venv"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".${extras}"
        echo "$digest" > "$stamp"
    fi
}
