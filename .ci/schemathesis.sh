#!/usr/bin/env bash
# Schemathesis (a tool nobody here wrote) against sheafd's own OpenAPI document, on the TCP
# listener with a write API key: no 5xx, every response matching the schema, every error
# in the envelope. Run by .ci/run and `just schemathesis`; SHEAF_ST_EXAMPLES sets the
# examples per operation (default 100), SHEAF_ST_SEED replays a run.
# Excluded checks and why: docs/decisions.md, "Reliability".
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
if ! st --version 2>/dev/null | grep -q "$ST_VERSION"; then
    echo "== installing schemathesis $ST_VERSION"
    python3 -m pip install --quiet "schemathesis==$ST_VERSION"
fi

cargo build --quiet -p sheaf-daemon --bin sheafd
sheafd="${CARGO_TARGET_DIR:-target}/debug/sheafd"

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="st-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
{
    echo "[tcp]"
    echo "listen = \"127.0.0.1:$port\""
    echo "[[tcp.keys]]"
    echo "name = \"schemathesis\""
    echo "scope = \"write\""
    "$sheafd" --hash-key "$key"
} >"$work/config.toml"

# Something to find: a collection with a few registered files in it.
mkdir -p "$work/files"
for n in a b c; do echo "$n" >"$work/files/$n.txt"; done

RUST_LOG=warn "$sheafd" --config "$work/config.toml" --socket "$work/run/sheafd.sock" \
    --database "$work/data/sheaf.redb" 2>"$work/sheafd.log" &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
    curl -fsS -H "Authorization: Bearer $key" "$base/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
done
api() {
    curl -fsS -X "$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        "$base$2" ${3:+-d "$3"} >/dev/null
}
api POST /v1/collections '{"id": "inbox"}'
api POST /v1/items "{\"paths\": [\"$work/files/a.txt\", \"$work/files/b.txt\", \"$work/files/c.txt\"]}"
api POST /v1/collections/inbox/items "{\"items\": [\"$work/files/a.txt\", \"$work/files/b.txt\"]}"

status=0
# From the scratch directory: schemathesis keeps state in ./.schemathesis.
(cd "$work" && st run "$base/v1/openapi.json" \
    -H "Authorization: Bearer $key" \
    --checks all \
    --exclude-path /v1/events \
    --exclude-path /v1/search \
    --phases "${SHEAF_ST_PHASES:-examples,coverage,fuzzing,stateful}" \
    --exclude-checks "${SHEAF_ST_EXCLUDE:-positive_data_acceptance}" \
    --max-examples "${SHEAF_ST_EXAMPLES:-100}" \
    ${SHEAF_ST_SEED:+--seed "$SHEAF_ST_SEED"} \
    --workers 1 \
    --request-timeout 30 \
    --generation-database none \
    --no-color \
    --report junit --report-dir "$work/report") || status=$?

if grep -E ' (ERROR|panicked)' "$work/sheafd.log" | grep -v 'store failure' | head -20 | grep -q .; then
    echo "== sheafd logged errors during the run:"
    grep -E ' (ERROR|panicked)' "$work/sheafd.log" | head -20
fi
tests=$(grep -o 'tests="[0-9]*"' "$work/report"/*.xml 2>/dev/null | head -1 | tr -dc 0-9)
echo "== schemathesis: exit $status (${tests:-?} operations in the junit report)"
exit "$status"
