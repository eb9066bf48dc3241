#!/usr/bin/env bash
# Assembles docs/benchmarks.md from the reports the benchmarks wrote into the target dir
# (`just bench` runs them first): one document with every table, the machine and the date.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
out=docs/benchmarks.md
parts=(store daemon automation tui crawl)
for part in "${parts[@]}"; do
    if [ ! -f "$target/bench-$part.md" ]; then
        echo "benchmarks.sh: $target/bench-$part.md is missing; run its benchmark first" >&2
        exit 1
    fi
done

mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Benchmarks"
    echo
    echo "Written by \`just bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores ($cpu),"
    echo "$mem of memory, $(uname -sr), $(rustc --version | cut -d' ' -f1-2)."
    echo
    echo "Every figure is measured side by side with its floor (bare redb, bare hyper on a Unix"
    echo "socket, a bare walk and \`find\`, direct store calls; watchman for the crawls) in the same run, and the ratios"
    echo "are what carries from one machine to another. Medians and p99s; goals from the issues."
    for part in "${parts[@]}"; do
        echo
        # Each report's headings move one level down under this document's title.
        sed -E 's/^(#+) /#\1 /' "$target/bench-$part.md"
    done
} > "$out"
echo "wrote $out"
