#!/usr/bin/env bash
# Fuzzes the salcrop C ABI (csrc/fuzz/fuzz_c_api.c) under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [SECONDS] [SEED]         (default 60 s, seed from the clock)
#
# With clang installed (and SALCROP_FUZZ_ENGINE unset or "libfuzzer"), the core and the target are built with
# clang into build/fuzz-clang and run under libFuzzer (coverage-guided; corpus in build/fuzz-clang/corpus,
# crash inputs written there as crash-*; replay one with `build/fuzz-clang/fuzz_c_api CRASHFILE`).
# Otherwise (or SALCROP_FUZZ_ENGINE=random) the gcc sanitizer build of scripts/sanitize.sh runs the seeded
# random driver csrc/fuzz/fuzz_main.c; a failure prints the command that reproduces it
# (`build/sanitize/fuzz_main --one SEED INPUT`). Either way a finding exits non-zero.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
seconds=${1:-60}
seed=${2:-$(date +%s)}
engine=${SALCROP_FUZZ_ENGINE:-auto}
jobs=${SALCROP_JOBS:-2}

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$repo/csrc/fuzz/lsan.supp:print_suppressions=0}
# One ONNX Runtime thread pool per engine is plenty; the fuzzer runs beside other work.
export OMP_NUM_THREADS=1

# libFuzzer needs clang and its runtime (Debian: clang libclang-rt-14-dev; about 20 s to install).
have_libfuzzer() {
    command -v clang > /dev/null && command -v clang++ > /dev/null \
        && [[ -f $(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a ]]
}
if [[ $engine == auto ]]; then
    if have_libfuzzer; then engine=libfuzzer; else engine=random; fi
fi

if [[ $engine == random ]]; then
    bash scripts/sanitize.sh build
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    echo "==> random driver for $seconds s, seed $seed (gcc, address,undefined)"
    # The driver names every input before running it; keep only the last few lines (the finding) on failure.
    if build/sanitize/fuzz_main "$seconds" "$seed" 2> "$log"; then
        exit 0
    fi
    grep -v '^fuzz_main: input' "$log" | tail -60
    grep '^fuzz_main: input' "$log" | tail -1
    echo "fuzz.sh: a finding; reproduce with the command on the line above (build/sanitize/...)" >&2
    exit 1
fi

# libFuzzer: everything built with clang (mixing gcc's and clang's ASan runtimes does not work).
out=$repo/build/fuzz-clang
ort=$(ls "$repo"/.venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.* 2>/dev/null | head -n1)
[[ -n $ort ]] || { echo "fuzz.sh: no libonnxruntime in .venv: run scripts/setup.sh" >&2; exit 1; }
include=$(bash scripts/fetch_ort_headers.sh | tail -n1)
mkdir -p "$out/corpus"
# clang links its ASan runtime into executables only: libsalcrop.so (linked with --no-undefined) and the
# target share the runtime's shared library instead (-shared-libasan).
asan_dir=$(dirname "$(clang -print-file-name=libclang_rt.asan-x86_64.so)")
CC=clang CXX=clang++ cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    -DSALCROP_SANITIZE=address,undefined,fuzzer-no-link -DCMAKE_SHARED_LINKER_FLAGS="-shared-libasan" \
    -DONNXRUNTIME_INCLUDE_DIR="$include" -DSALCROP_ORT_DEFAULT="$ort" > "$out/configure.log" 2>&1 \
    || { cat "$out/configure.log"; exit 1; }
cmake --build "$out" -j"$jobs" --target salcrop > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
clang -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -shared-libasan \
    -DSALCROP_LIBFUZZER -I"$repo/csrc/include" -L"$out" -Wl,-rpath,"$out" -Wl,-rpath,"$asan_dir" \
    -o "$out/fuzz_c_api" csrc/fuzz/fuzz_c_api.c -lsalcrop -lm
echo "==> libFuzzer for $seconds s, seed $seed (clang, address,undefined)"
cd "$out"
# With the shared runtime, libFuzzer's own libraries may be listed before it; it is loaded all the same.
export ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0
# Each input creates an engine (a model load), so only a few run per second: start from random programs of
# useful length (seeded, so a rerun starts the same) instead of growing from empty inputs.
python3 - "$seed" corpus <<'PY'
import pathlib, random, sys
rng, corpus = random.Random(int(sys.argv[1])), pathlib.Path(sys.argv[2])
for i in range(32):
    path = corpus / f"seed-{i:02d}"
    if not path.exists():
        path.write_bytes(rng.randbytes(rng.choice([24, 64, 200, 600, 1500])))
PY
# -max_len: a program of a few hundred operations is plenty; -rss_limit: ONNX Runtime plus 320x320 frames.
./fuzz_c_api -max_total_time="$seconds" -seed="$seed" -max_len=2048 -len_control=0 -rss_limit_mb=4096 \
    -timeout=60 -print_final_stats=1 -artifact_prefix="$out/" corpus
