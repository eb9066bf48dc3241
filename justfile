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

# The store benchmarks, side by side with their floors (bare redb); prints a Markdown table.
bench-store:
    cargo bench -p sheaf-store --bench store

# The daemon benchmarks: real sheafd and sheaf (release) over the socket, side by side with
# their floors (bare hyper, direct store calls); prints a Markdown table.
bench-daemon:
    cargo bench -p sheaf-daemon --bench daemon

# Every benchmark.
bench: bench-store bench-daemon
