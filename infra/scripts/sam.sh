#!/usr/bin/env bash
# Runs the SAM CLI from a virtualenv of its own (.venv-sam), made on first use with the version pinned in
# pyproject.toml ([tool.leadenrich.tools] sam-cli): the SAM CLI pins boto3 and pydantic to other versions
# than the service, so it cannot share .venv. `sam build` needs python3.12 (the functions' runtime) on PATH;
# pyenv's is used when PATH has none.
#   infra/scripts/sam.sh validate --lint
#   infra/scripts/sam.sh build
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv-sam"
python="${PYTHON:-python3}"
pin="$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["tool"]["leadenrich"]["tools"]["sam-cli"])' "$root/pyproject.toml")"

if [[ ! -x "$venv/bin/sam" ]] || [[ "$(cat "$venv/.pin" 2>/dev/null)" != "$pin" ]]; then
    echo "sam.sh: installing $pin into .venv-sam" >&2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$pin"
    echo "$pin" > "$venv/.pin"
fi

# `command -v` is not enough: a pyenv shim for a version that is not selected exists but fails to run.
if ! python3.12 --version >/dev/null 2>&1; then
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin; do
        [[ -x "$dir/python3.12" ]] && PATH="$dir:$PATH" && break
    done
fi

export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
cd "$root"
exec "$venv/bin/sam" "$@"
