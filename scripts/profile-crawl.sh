#!/usr/bin/env bash
# Profiles sheafd's crawl of a new watch (issue 17) with perf: a fresh daemon and database
# in a temp dir, a watch on TREE (default: the toolchain's Rust documentation), perf
# sampling sheafd from the watch's creation until its collection counts every file. Prints
# the wall time, sheafd's CPU time over it, and perf's top symbols by self time and with
# their callees. Needs perf (Debian's linux-perf), curl and jq, and a release sheafd
# (`cargo build --release -p sheaf-daemon --bin sheafd`, or SHEAFD=PATH).
#
#   bash scripts/profile-crawl.sh [TREE]
#
# KEEP=1 keeps the daemon's dir and perf.data; CONFIG='cache_mb = 64' gives sheafd config
# lines; TOP=N prints N symbols.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
sheafd="${SHEAFD:-$target/release/sheafd}"
tree="${1:-$(rustc --print sysroot)/share/doc/rust/html}"
top="${TOP:-25}"
for tool in perf curl jq; do
    command -v "$tool" >/dev/null || { echo "profile-crawl.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$sheafd" ] || { echo "profile-crawl.sh: no sheafd at $sheafd" >&2; exit 1; }

work=$(mktemp -d)
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

files=$(find "$tree" -type f | wc -l)
sock="$work/sheafd.sock"
printf '%s\n' "${CONFIG:-}" > "$work/config.toml"
"$sheafd" --config "$work/config.toml" --socket "$sock" --database "$work/sheaf.redb" \
    2> "$work/sheafd.log" &
daemon=$!
api() { curl -sf --unix-socket "$sock" "$@"; }
until api http://sheaf/v1/health > /dev/null; do sleep 0.05; done

perf record -e cpu-clock -F 499 --call-graph dwarf,8192 -p "$daemon" -o "$work/perf.data" \
    2> "$work/perf.log" &
recorder=$!
sleep 0.5 # perf attaches to every thread

cpu() { awk '{ print $14 + $15 }' "/proc/$daemon/stat"; }
cpu_before=$(cpu)
start=$(date +%s.%N)
api -H 'content-type: application/json' \
    -d "$(jq -n --arg path "$tree" '{path: $path, collection: "tree"}')" \
    http://sheaf/v1/watches > /dev/null
until [ "$(api http://sheaf/v1/collections/tree | jq .item_count)" -ge "$files" ]; do
    sleep 0.02
done
end=$(date +%s.%N)
cpu_after=$(cpu)
kill -INT "$recorder"
wait "$recorder" || true

ticks=$(getconf CLK_TCK)
echo "crawl of $tree: $files files"
echo "wall $(echo "$end - $start" | bc) s; sheafd CPU $(echo "scale=2; ($cpu_after - $cpu_before) / $ticks" | bc) s (user + system, every thread)"
echo
echo "## by thread"
perf report -i "$work/perf.data" --no-children --sort comm --stdio 2> /dev/null |
    grep -E '^ +[0-9.]+%' | head -n 10
echo
echo "## self time"
perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2> /dev/null |
    grep -E '^ +[0-9.]+%' | head -n "$top"
echo
echo "## with callees"
perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2> /dev/null |
    grep -E '^ +[0-9.]+%' | head -n "$top"
