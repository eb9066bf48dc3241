# sheaf's recipes. `test` and `lint` are exactly what .ci/run runs.

default:
    @just --list

# Every test: the README's test command.
test:
    cargo test --workspace

# Format check and clippy with warnings as errors, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# What CI runs.
ci:
    bash .ci/run

# sheaf and sheafd into ~/.cargo/bin (release), their man pages into ~/.local/share/man/man1,
# completions for bash, zsh and fish into the places those shells look. Then, to run sheafd
# as a systemd user service: `sheaf service install`.
install:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo install --locked --path crates/sheaf-cli
    cargo install --locked --path crates/sheaf-daemon
    bin="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
    data="${XDG_DATA_HOME:-$HOME/.local/share}"
    man="$data/man/man1"
    mkdir -p "$man" "$data/bash-completion/completions" "$data/zsh/site-functions" \
        "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions"
    "$bin/sheaf" man --dir "$man"
    "$bin/sheafd" --man > "$man/sheafd.1"
    "$bin/sheaf" completions bash > "$data/bash-completion/completions/sheaf"
    "$bin/sheaf" completions zsh > "$data/zsh/site-functions/_sheaf"
    "$bin/sheaf" completions fish > "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions/sheaf.fish"
    echo "installed $bin/sheaf and $bin/sheafd; man pages in $man"
    echo "as a systemd user service: $bin/sheaf service install"

# The store benchmarks, side by side with their floors (bare redb); prints a Markdown table.
bench-store:
    cargo bench -p sheaf-store --bench store

# The daemon benchmarks: real sheafd and sheaf (release) over the socket, side by side with
# their floors (bare hyper, direct store calls); prints a Markdown table.
bench-daemon:
    cargo bench -p sheaf-daemon --bench daemon

# The automation benchmarks (smart collections and rules): real sheafd (release), each
# measured side by side with its baseline; prints a Markdown table. SHEAF_BENCH_QUICK=1:
# shorter, the smart-collection fill over 100k items instead of 1M.
bench-automation:
    cargo bench -p sheaf-daemon --bench automation

# The TUI benchmark: time to first frame and memory on a 1M-entry collection (real sheafd),
# frame render time into a TestBackend; prints a Markdown table. SHEAF_BENCH_QUICK=1: 100k.
bench-tui:
    cargo bench -p sheaf-tui --bench tui

# The crawl baseline of issue 17: a new watch's crawl of the Rust documentation (~52k real
# files) and of a generated 100k tree, against watchman, plocate's updatedb, find and the
# bare walk, as ratios to watchman, with both daemons' memory; prints a Markdown table.
# Installs watchman and plocate with apt-get when missing. SHEAF_BENCH_QUICK=1: one round, 10k.
bench-crawl:
    command -v watchman >/dev/null && command -v updatedb >/dev/null || \
        $([ "$(id -u)" = 0 ] || echo sudo) apt-get install -y watchman plocate
    cargo bench -p sheaf-daemon --bench crawl

# Where a new watch's crawl spends its time: perf samples a fresh release sheafd from the
# watch's creation until every entry is committed (TREE: the Rust documentation by default).
profile-crawl *args:
    cargo build --release -p sheaf-daemon --bin sheafd
    bash scripts/profile-crawl.sh {{args}}

# Every benchmark, then one report of them all: docs/benchmarks.md (machine, date, tables).
bench: bench-store bench-daemon bench-automation bench-tui bench-crawl
    bash scripts/benchmarks.sh

# Reliability (issue 7) -------------------------------------------------------------------

# The full crash run: 200 SIGKILLs of a busy sheafd, every restart checked (CI runs 20).
# SHEAF_CRASH_SEED=N replays a run.
crash kills="200":
    SHEAF_CRASH_KILLS={{kills}} cargo test -p sheaf-e2e --test crash -- --nocapture

# The full rules crash run: `kills` SIGKILLs of sheafd while a rule links and runs a program
# for bursts of `files` files (CI runs 5 over 1000); every file linked exactly once, every
# program run at least once. SHEAF_RULE_CRASH_SEED=N replays a run.
crash-rules kills="50" files="5000":
    SHEAF_RULE_CRASH_KILLS={{kills}} SHEAF_RULE_CRASH_FILES={{files}} cargo test -p sheaf-e2e --test rules_crash -- --nocapture sigkill

# Schemathesis against /v1/openapi.json on the TCP listener, as CI runs it.
schemathesis:
    bash .ci/schemathesis.sh

# Every fuzz target for 60 s each (cargo-fuzz on the stable toolchain through
# RUSTC_BOOTSTRAP); new inputs land in fuzz/corpus/<target>/.
fuzz-smoke seconds="60":
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd fuzz && for t in requests store_ops; do \
        RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "corpus/$t" -- -max_total_time={{seconds}} || exit 1; \
    done

# Real tools and real bursts (issue 12) ---------------------------------------------------

# The real-tools suite (git, tar, cp/mv/rm, vim, sed, Python, four writers…) `runs` times in
# a row, each run in a fresh folder, at full size (CI runs each scenario once); per run the
# time to converge, then one SUMMARY line per scenario: runs, losses, worst convergence.
# SHEAF_TORTURE_SEED=N replays the seeded scenarios.
torture runs="20":
    #!/usr/bin/env bash
    set -uo pipefail
    log="$(mktemp)"
    SHEAF_TORTURE_RUNS={{runs}} cargo test -p sheaf-e2e --test real_tools -- --nocapture 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    echo "== summary"
    grep -h '^SUMMARY' "$log"
    rm -f "$log"
    exit "$status"

# The soak: three writers mixing every operation for `secs` seconds, compared every minute
# (writers paused, converged, compared); SHEAF_SOAK_SEED=N replays. Ends with its SUMMARY.
soak secs="1800":
    #!/usr/bin/env bash
    set -uo pipefail
    log="$(mktemp)"
    SHEAF_SOAK_SECS={{secs}} cargo test -p sheaf-e2e --test real_tools -- --ignored --nocapture soak 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    echo "== summary"
    grep -h '^SUMMARY' "$log"
    rm -f "$log"
    exit "$status"
