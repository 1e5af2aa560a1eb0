#!/usr/bin/env bash
# Memory-safety checks of the salcrop core on real frames.
#
#   scripts/sanitize.sh [asan|tsan|valgrind|all]      (default: asan)
#
# asan:     builds the core with -fsanitize=address,undefined into build/sanitize (CMake option
#           SALCROP_SANITIZE), plus the C drivers in csrc/fuzz, then
#             - runs the C ABI CTest under the sanitizers;
#             - cuts a short piece of a real clip (../shared/videos/testvideo.mp4, across its cut at frame 201)
#               to raw frames with build/bin/ffmpeg, in several pixel formats and sizes (odd, portrait, tiny),
#               and pushes them through the whole C ABI with csrc/fuzz/run_clip.c: push, pop, flush,
#               render_padded on every decision, draw_debug, path_json.
#           Any ASan/UBSan report or leak (bar ONNX Runtime's own, csrc/fuzz/lsan.supp) fails the run.
# tsan:     builds the core with -fsanitize=thread into build/tsan and pushes real frames (two pieces of the clip,
#           one across its cut) through the C ABI with run_clip: the engine runs its model on a worker thread
#           (csrc/src/saliency_worker.cpp), and any data race between it and the caller's thread fails the run.
# valgrind: runs build/bin/ffmpeg with four salcrop instances (crop + path JSON, debug view, padded, two ratios
#           from one engine) on 12 frames of 160x90 across the clip's cut, under memcheck: no invalid read/write, no use of uninitialised values, no definite leak.
#           Suppressions (csrc/fuzz/valgrind.supp): two, both outside salcrop (ld.so, ONNX Runtime), justified there.
# Log: build/sanitize/valgrind.log. Needs scripts/setup.sh to have run (build/bin/ffmpeg, .venv's onnxruntime); installs valgrind if missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
what=${1:-asan}
jobs=${SALCROP_JOBS:-2}
san=$repo/build/sanitize
ffmpeg=$repo/build/bin/ffmpeg
clip=${SALCROP_SANITIZE_CLIP:-$repo/../shared/videos/testvideo.mp4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() { printf 'sanitize.sh: error: %s\n' "$*" >&2; exit 1; }
need_clip() {
    [[ -x $ffmpeg ]] || die "$ffmpeg is missing: run scripts/setup.sh"
    [[ -f $clip ]] || die "the real clip $clip is missing"
}

# Sanitizer settings shared by every sanitized process: stop at the first report, with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$repo/csrc/fuzz/lsan.supp:print_suppressions=0}

ort_lib() {
    ls "$repo"/.venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.* 2>/dev/null | head -n1
}

# Builds a sanitized core (+ CTest + drivers) into $1 with sanitizers $2; prints nothing but errors.
build_with() {
    local dir=$1 sanitizers=$2 ort include
    ort=$(ort_lib)
    [[ -n $ort ]] || die "no libonnxruntime in .venv: run scripts/setup.sh"
    include=$(bash scripts/fetch_ort_headers.sh | tail -n1)
    mkdir -p "$dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSALCROP_SANITIZE="$sanitizers" \
        -DONNXRUNTIME_INCLUDE_DIR="$include" -DSALCROP_ORT_DEFAULT="$ort" > "$dir/configure.log" 2>&1 \
        || { cat "$dir/configure.log"; die "cmake configure failed"; }
    cmake --build "$dir" -j"$jobs" > "$dir/build.log" 2>&1 || { tail -40 "$dir/build.log"; die "sanitized build failed"; }
    local flags=(-std=c99 -O1 -g -fno-omit-frame-pointer -fsanitize="$sanitizers" -Wall -Wextra
                 -I"$repo/csrc/include" -L"$dir" -Wl,-rpath,"$dir")
    [[ $sanitizers == thread ]] || flags+=(-fno-sanitize-recover=all)
    gcc "${flags[@]}" -o "$dir/run_clip" csrc/fuzz/run_clip.c -lsalcrop
    gcc "${flags[@]}" -o "$dir/fuzz_main" csrc/fuzz/fuzz_main.c csrc/fuzz/fuzz_c_api.c -lsalcrop -lm
}

# build/sanitize with address,undefined. Shared with scripts/fuzz.sh.
build_sanitized() { build_with "$san" address,undefined; }

run_asan() {
    need_clip
    echo "==> sanitized build (address,undefined) in build/sanitize"
    build_sanitized
    echo "==> C ABI CTest under the sanitizers"
    (cd "$san" && ctest --output-on-failure -j1) || die "CTest failed under the sanitizers"
    # name  pix_fmt  size     ratio  pad   keep_maps
    local cases=(
        "odd     yuv420p 321x181 9:16  blur  1"
        "nv12    nv12    320x180 4:5   black 0"
        "portrait rgb24  180x320 9:16  blur  1"
        "packed  bgra    160x90  16:9  none  1"
        "planar  yuv444p 96x54   1     black 1"
        "gray    gray    64x36   9:16  blur  1"
        "tiny    yuv422p 17x9    9:16  none  1"
    )
    local c name fmt size ratio pad maps w h
    for c in "${cases[@]}"; do
        read -r name fmt size ratio pad maps <<< "$c"
        w=${size%x*}; h=${size#*x}
        # 36 frames across the cut at frame 201 of testvideo.mp4.
        "$ffmpeg" -v error -i "$clip" -vf "trim=start_frame=185:end_frame=221,scale=$w:$h" -pix_fmt "$fmt" \
            -f rawvideo -y "$work/$name.raw"
        echo "==> run_clip $name: $fmt $size ratio $ratio pad $pad keep_maps $maps"
        "$san/run_clip" "$work/$name.raw" "$fmt" "$w" "$h" 25 "$ratio" "$pad" "$maps" > "$work/$name.json" \
            || die "run_clip $name failed (see the report above)"
        grep -q '"version":2' "$work/$name.json" || die "run_clip $name wrote no crop path"
    done
    echo "==> asan: all clean"
}

run_tsan() {
    need_clip
    local dir=$repo/build/tsan
    echo "==> thread-sanitized build in build/tsan"
    build_with "$dir" thread
    # halt_on_error: the first race fails the run. ONNX Runtime is not instrumented; what TSan watches is the
    # core's own memory, handed between the caller's thread and the model's worker thread.
    local spec name start end
    for spec in "cut 185 221" "open 0 60"; do
        read -r name start end <<< "$spec"
        "$ffmpeg" -v error -i "$clip" -vf "trim=start_frame=$start:end_frame=$end,scale=320:180" -pix_fmt yuv420p \
            -f rawvideo -y "$work/$name.raw"
        echo "==> run_clip under tsan: frames $start-$end"
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            "$dir/run_clip" "$work/$name.raw" yuv420p 320 180 25 9:16 none 1 > "$work/$name.json" \
            || die "run_clip under tsan failed (see the report above)"
        grep -q '"version":2' "$work/$name.json" || die "run_clip under tsan wrote no crop path"
    done
    # speakers=auto: the face detector and the crops on their own thread (csrc/src/face_worker.cpp), on a real
    # conversation (two faces) when ../shared has it; without sound the crops are cut for the first 2 s only.
    local faces=${SALCROP_SANITIZE_FACES:-$repo/../shared/data/speakers/msdwild-00115/00115.mp4}
    if [[ -f $faces ]]; then
        "$ffmpeg" -v error -i "$faces" -vf "trim=end_frame=75,scale=640:360" -pix_fmt yuv420p -f rawvideo \
            -y "$work/faces.raw"
        echo "==> run_clip under tsan: speakers=auto, the first 75 frames of $(basename "$faces")"
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SALCROP_RUN_CLIP_SPEAKERS=auto \
            "$dir/run_clip" "$work/faces.raw" yuv420p 640 360 25 9:16 none 1 > "$work/faces.json" \
            || die "run_clip under tsan failed with speakers=auto (see the report above)"
        grep -q '"tracks"' "$work/faces.json" || die "run_clip under tsan with speakers=auto found no face track"
    fi
    echo "==> tsan: all clean"
}

run_valgrind() {
    need_clip
    command -v valgrind > /dev/null || {
        local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
        $sudo apt-get install -y -qq --no-install-recommends valgrind > /dev/null
    }
    # A short low-res piece, already decoded to a raw file: memcheck then watches the filter, the core and
    # the encoder, not a decoder's SIMD.
    "$ffmpeg" -v error -i "$clip" -vf "trim=start_frame=196:end_frame=208,scale=160:90" -pix_fmt yuv420p \
        -f rawvideo -y "$work/in.yuv"
    local common=(--error-exitcode=99 --errors-for-leak-kinds=definite --leak-check=full
                  --show-leak-kinds=definite --track-origins=yes --num-callers=30
                  --suppressions="$repo/csrc/fuzz/valgrind.supp" --gen-suppressions=no)
    # One process (ONNX Runtime's start-up dominates under memcheck), four instances: crop + path JSON,
    # the debug view, padded rendering, and two ratios from one engine (two pads, a path file each).
    local graph="[0:v]split=4[a][b][c][d];[a]salcrop=ratio=9/16:stride=6:threads=1:path=$work/path.json[crop];"
    graph+="[b]salcrop=ratio=9/16:stride=6:threads=1:debug=1[debug];[c]salcrop=ratio=1/2:stride=6:pad=blur:mode=stationary:threads=1[padded];"
    graph+="[d]salcrop=ratios=9/16|1/2:stride=6:pad=blur:threads=1:path=$work/multi.json[m0][m1]"
    mkdir -p "$san"
    echo "==> valgrind memcheck: ffmpeg -filter_complex '$graph'"
    valgrind "${common[@]}" --log-file="$san/valgrind.log" \
        "$ffmpeg" -v error -nostdin -f rawvideo -pix_fmt yuv420p -s 160x90 -r 25 -i "$work/in.yuv" \
        -filter_complex "$graph" -map '[crop]' -f rawvideo -y "$work/crop.raw" -map '[debug]' -f rawvideo \
        -y "$work/debug.raw" -map '[padded]' -f rawvideo -y "$work/padded.raw" \
        -map '[m0]' -f rawvideo -y "$work/m0.raw" -map '[m1]' -f rawvideo -y "$work/m1.raw" \
        || { cat "$san/valgrind.log"; die "valgrind found errors (log above, kept in $san/valgrind.log)"; }
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$san/valgrind.log" | sed 's/^==[0-9]*== /    /'
    local name
    for name in crop debug padded m0 m1; do
        [[ -s $work/$name.raw ]] || die "the $name output is empty"
    done
    grep -q '"version":2' "$work/path.json" || die "no crop path from the valgrind run"
    grep -q '"ratio":"1:2"' "$work/multi.1x2.json" || die "no crop path of the second ratio from the valgrind run"
    echo "==> valgrind: all clean"
}

case $what in
    asan) run_asan ;;
    tsan) run_tsan ;;
    valgrind) run_valgrind ;;
    all) run_asan; run_tsan; run_valgrind ;;
    build) build_sanitized ;;
    *) die "usage: scripts/sanitize.sh [asan|tsan|valgrind|all|build]" ;;
esac
