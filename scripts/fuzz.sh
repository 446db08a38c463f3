#!/usr/bin/env bash
# Fuzzes what the plugin reads from outside (cargo-fuzz, libFuzzer + ASan):
#   api_response      every answer body of the Velora API and the token endpoint
#   loopback_request  whatever a local process sends to the login's listener
#   stored_files      the token record and the preferences file
#   vendor_request    obs-websocket vendor requests (name + JSON data)
#   image_header      a category picture's first bytes (format and size)
#
#   bash scripts/fuzz.sh            # every target for FUZZ_SECS (default 30) each
#   FUZZ_SECS=3600 bash scripts/fuzz.sh api_response    # a longer run of one
#
# Runs on the stable toolchain (RUSTC_BOOTSTRAP=1 lets it take the -Z flags
# cargo-fuzz passes; its sanitizer runtimes ship with stable). Corpora grow
# in fuzz/corpus/<target>/ (not committed); a crash stops the run and leaves
# fuzz/artifacts/<target>/crash-*: reproduce with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECS:-30}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (once)"
    cargo install --locked cargo-fuzz >/dev/null
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(api_response loopback_request stored_files vendor_request image_header)
cd fuzz
export RUSTC_BOOTSTRAP=1
t0=$SECONDS
mkdir -p ../target
cargo fuzz build -O 2>../target/fuzz-build.log || { tail -30 ../target/fuzz-build.log >&2; exit 1; }
echo "fuzz: built in $((SECONDS - t0)) s"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    start=$SECONDS
    # -max_len keeps inputs near real sizes; a finding exits non-zero.
    cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
        2>"../target/fuzz-$t.log" || {
        echo "fuzz: $t FOUND A PROBLEM (see target/fuzz-$t.log and fuzz/artifacts/$t/)" >&2
        tail -40 "../target/fuzz-$t.log" >&2
        exit 1
    }
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "../target/fuzz-$t.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t clean: $runs inputs in $((SECONDS - start)) s"
done
