#!/usr/bin/env bash
# Fuzz the WebAssembly loader with libFuzzer (clang-14, ASan + UBSan) for N seconds.
#   fuzz/run.sh [seconds] [extra libFuzzer flags...]
# New inputs go to fuzz/out/wasm_load (not kept); crashes to fuzz/out/crashes.
# Keep an input by copying it into fuzz/corpus/wasm_load (small ones only).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
out=fuzz/out
mkdir -p "$out/wasm_load" "$out/crashes"
bin=$out/wasm_load_fuzz
# The engine without its spec-test harness (which needs jansson and is not fuzzed here).
srcs=(fuzz/wasm_load_fuzz.c src/util/log.c)
for f in src/wasm/*.c; do
	[ "$f" = src/wasm/spectest.c ] || srcs+=("$f")
done
clang-14 -g -O1 -std=c17 -D_GNU_SOURCE -Isrc -fno-strict-aliasing \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	"${srcs[@]}" -lm -o "$bin"
# The corpus seeds whole modules; the dictionary supplies sections and opcodes.
exec "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/crashes/" -print_final_stats=1 -dict=fuzz/wasm.dict "$@" \
	"$out/wasm_load" fuzz/corpus/wasm_load
