#!/usr/bin/env bash
# Sets up everything salcrop needs, from nothing, into the repository:
#   .venv/                     Python 3.11 with the pinned requirements, PyAV 16.1.0 built against our FFmpeg,
#                              and salcrop_filter installed;
#   build/lib/libsalcrop.so    the C++ core behind the C ABI;
#   build/bin/ffmpeg, ffprobe  FFmpeg 7.1.5 with the salcrop filter (build/lib holds its shared libraries);
#   build/share/salcrop/salcrop.onnx  the default model (salcrop-int8.onnx beside it: the CPU default; for the GPU
#                              salcrop-large.onnx (CUDA's default), salcrop-fp16.onnx and the
#                              *.encoder.onnx/*.head.onnx splits the core batches with).
# Idempotent: a step whose inputs did not change is skipped, and the slow builds (FFmpeg, PyAV) are cached
# under ${SALCROP_CACHE:-~/.cache/salcrop} by a hash of their inputs, so a warm machine is done in seconds.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=$repo/build
venv=$repo/.venv
cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}
export SALCROP_CACHE=$cache
jobs=${SALCROP_JOBS:-2}
python=${SALCROP_PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
av_version=16.1.0

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step() { step_name=$1; step_start=$EPOCHREALTIME; printf '==> %s\n' "$step_name"; }
done_step() { printf '    %s: %s s\n' "$step_name" "$(since "$step_start")"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }
total_start=$EPOCHREALTIME

# Hash of files (paths relative to the repo) and extra words, for "did this step's input change" stamps.
content_hash() { { for f in "$@"; do if [[ -f $f ]]; then sha256sum "$f"; else echo "$f"; fi; done; } | sha256sum | cut -c1-16; }

# --- 1. system packages
step "system packages"
need=()
# valgrind: tests/test_sanitizers.py (scripts/sanitize.sh valgrind). coinor-libclp-dev: the planner's LP solver.
# The -dev packages of the libraries FFmpeg is built with (ffmpeg_filter/build_ffmpeg.sh says why each).
ffmpeg_libs=(libx264-dev libx265-dev libvpx-dev libdav1d-dev libsvtav1enc-dev libopus-dev libmp3lame-dev
             libfreetype-dev libfontconfig-dev libharfbuzz-dev libass-dev libgnutls28-dev libsrt-gnutls-dev
             libxml2-dev zlib1g-dev libbz2-dev liblzma-dev)
# chromium: the browser tests/test_review.py drives through Playwright (81 MB download, 290 MB installed).
# espeak-ng: the synthetic talking faces of tests/test_speakers.py (a voice with exact labels; 10 MB).
# time: GNU time measures a test's child's peak memory (tests/test_memory_budget.py).
for pkg in nasm "${ffmpeg_libs[@]}" pkg-config cmake make g++ python3-venv python3-dev xz-utils valgrind time \
           coinor-libclp-dev chromium espeak-ng; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
    sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
    echo "    installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
done_step

# --- 2. Python environment
step "python environment (.venv)"
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
"$venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || die ".venv is not Python 3.11; remove it and rerun"
# ONNX Runtime: the CPU-only wheel, or onnxruntime-gpu with its CUDA/cuDNN wheels where nvidia-smi answers
# (scripts/install_ort.sh says which and why; SALCROP_GPU=0/1 overrides the detection).
ort_branch=$(bash scripts/install_ort.sh --which "$venv")
req_hash=$(content_hash requirements.txt requirements-nodeps.txt requirements-gpu.txt scripts/install_ort.sh "$ort_branch")
if [[ $(cat "$venv/.salcrop-requirements" 2>/dev/null) != "$req_hash" ]]; then
    grep -vE '^onnxruntime==' requirements.txt > "$venv/.salcrop-requirements-no-ort.txt"
    "$venv/bin/pip" install -q -r "$venv/.salcrop-requirements-no-ort.txt"
    "$venv/bin/pip" install -q --no-deps -r requirements-nodeps.txt
    bash scripts/install_ort.sh "$venv" | sed 's/^/    /'
    echo "$req_hash" > "$venv/.salcrop-requirements"
fi
ort_lib=$(ls "$venv"/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.* 2>/dev/null | head -n1)
[[ -n $ort_lib ]] || die "onnxruntime's libonnxruntime.so.1.* is missing from .venv"
done_step

# --- 3. ONNX Runtime headers (the core dlopens the library; it only compiles against the headers)
step "onnx runtime headers"
ort_include=$(bash scripts/fetch_ort_headers.sh | tail -n1)
[[ -f $ort_include/onnxruntime_cxx_api.h ]] || die "fetch_ort_headers.sh gave no headers ($ort_include)"
done_step

# --- 4. the C++ core: libsalcrop.so (cmake rebuilds only what changed)
step "core (libsalcrop.so)"
mkdir -p build/cmake
log=build/cmake/setup.log
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release -DONNXRUNTIME_INCLUDE_DIR="$ort_include" \
    -DSALCROP_ORT_DEFAULT="$ort_lib" > "$log" 2>&1 || { cat "$log"; die "cmake configure failed"; }
cmake --build build/cmake -j"$jobs" >> "$log" 2>&1 || { tail -40 "$log"; die "core build failed"; }
cmake --install build/cmake --prefix "$build" >> "$log" 2>&1 || { tail -20 "$log"; die "core install failed"; }
done_step

# --- 5. FFmpeg with the filter
step "ffmpeg 7.1.5 with salcrop"
bash ffmpeg_filter/build_ffmpeg.sh "$build" > /dev/null
"$build/bin/ffmpeg" -hide_banner -h filter=salcrop > /dev/null || die "build/bin/ffmpeg does not know the salcrop filter"
done_step

# --- 6. PyAV from source against build/. Its extension modules find FFmpeg through rpaths relative to themselves
# (.venv/lib/python3.11/site-packages/av/*.so and one level deeper -> build/lib), so the wheel fits any checkout
# with .venv and build/ side by side and is cached by FFmpeg's configuration, PyAV's and Python's versions only,
# not by the checkout's path; a change of the filter alone needs no rebuild.
# --no-cache-dir: pip's own wheel cache would hand back a wheel built against some other FFmpeg.
step "pyav $av_version against our ffmpeg"
av_rpath='-Wl,-rpath,$ORIGIN/../../../../../build/lib -Wl,-rpath,$ORIGIN/../../../../../../build/lib'
av_key=$(echo "$(cat "$build/.ffmpeg-abi-key") $av_version $("$venv/bin/python" -c 'import sys; print(sys.version)') $av_rpath" | sha256sum | cut -c1-16)
if [[ $(cat "$venv/.salcrop-av" 2>/dev/null) != "$av_key" ]]; then
    wheel_dir=$cache/pyav-$av_key
    mkdir -p "$cache"
    # One build at a time per cache (several checkouts may set up at once; the wheel folder appears whole).
    exec 8>"$cache/pyav-build.lock"
    flock 8
    if ! ls "$wheel_dir"/av-*.whl >/dev/null 2>&1; then
        rm -rf "$wheel_dir.partial"; mkdir -p "$wheel_dir.partial"
        PKG_CONFIG_PATH="$build/lib/pkgconfig" LDFLAGS="$av_rpath" MAKEFLAGS="-j$jobs" \
            "$venv/bin/pip" wheel -q --no-deps --no-cache-dir --no-binary av "av==$av_version" -w "$wheel_dir.partial"
        rm -rf "$wheel_dir"; mv "$wheel_dir.partial" "$wheel_dir"
    fi
    flock -u 8
    "$venv/bin/pip" install -q --no-deps --force-reinstall "$wheel_dir"/av-*.whl
    "$venv/bin/python" -c "import av; assert 'salcrop' in av.filter.filters_available, 'no salcrop in PyAV'"
    echo "$av_key" > "$venv/.salcrop-av"
fi
done_step

# --- 7. the Python package (skipped when none of its inputs changed)
step "salcrop_filter package"
# The bundled models go into the package too (CMakeLists.txt), so a new or retrained model reinstalls it.
pkg_hash=$(content_hash pyproject.toml CMakeLists.txt $(git ls-files -co --exclude-standard csrc python | sort) \
    models/salcrop.onnx models/salcrop-int8.onnx models/salcrop-large.onnx models/salcrop-teacher.onnx models/salcrop.pt \
    models/silero-vad.onnx models/face-yunet.onnx \
    "$ort_include" "$ort_lib")
if [[ $(cat "$venv/.salcrop-package" 2>/dev/null) != "$pkg_hash" ]]; then
    SALCROP_ORT_INCLUDE="$ort_include" "$venv/bin/pip" install -q --no-deps --no-build-isolation .
    echo "$pkg_hash" > "$venv/.salcrop-package"
fi
done_step

# --- 8. the default model
step "model"
mkdir -p "$build/share/salcrop"
if [[ -f models/salcrop.onnx ]]; then
    for m in models/salcrop.onnx models/salcrop-int8.onnx models/salcrop-large.onnx models/salcrop-teacher.onnx \
             models/NOTICE-teacher.md models/silero-vad.onnx models/NOTICE-silero-vad.md models/face-yunet.onnx \
             models/NOTICE-faces.md; do
        if [[ -f $m ]] && ! cmp -s "$m" "$build/share/salcrop/${m#models/}"; then cp "$m" "$build/share/salcrop/"; fi
    done
    # For the GPU: the FP16 copy (model=.../salcrop-fp16.onnx; not the default until measured on a GPU) and the
    # encoder/head split the core batches with on CUDA, for the filter's and the package's default float model.
    # Derived from the float model (a retrained one regenerates them); a few seconds.
    share=$build/share/salcrop
    if [[ ! $share/salcrop-fp16.onnx -nt $share/salcrop.onnx ]]; then
        "$venv/bin/python" -m salcrop_filter.export --fp16 "$share/salcrop.onnx" "$share/salcrop-fp16.onnx" > /dev/null
    fi
    pkg_model=$("$venv/bin/python" -c 'import pathlib, salcrop_filter; print(pathlib.Path(salcrop_filter.__file__).with_name("salcrop.onnx"))')
    # The large model (CUDA's default when installed) gets its own split: the core looks for it beside the model.
    for m in "$share/salcrop.onnx" "$share/salcrop-fp16.onnx" "$share/salcrop-large.onnx" "$pkg_model" \
             "${pkg_model%salcrop.onnx}salcrop-large.onnx"; do
        if [[ -f $m && ! ${m%.onnx}.head.onnx -nt $m ]]; then
            "$venv/bin/python" -m salcrop_filter.split "$m" > /dev/null
        fi
    done
else
    echo "    warning: models/salcrop.onnx does not exist yet; the filter needs model=<file>" >&2
fi
done_step

printf '==> ready in %s s: %s/bin/ffmpeg, %s/bin/python\n' "$(since "$total_start")" "$build" "$venv"
