#!/usr/bin/env bash
# Fetch the ONNX Runtime C/C++ headers (API 21, Debian trixie's onnxruntime 1.21) into the cache and print
# the include directory on the last line of stdout. The core dlopens libonnxruntime at run time, so only the
# headers are needed to build it; any library answering GetApi(21) (1.21 .. 1.32 seen working) runs it.
# Uses a private apt configuration: the machine's own sources and lists are never touched.
# Idempotent: a second run only checks the cache.
set -euo pipefail

cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}/ort-headers
inc=$cache/include
marker=$inc/onnxruntime_cxx_api.h
if [ -f "$marker" ] && [ -f "$inc/onnxruntime_c_api.h" ]; then
    echo "$inc"
    exit 0
fi

# Pinned fallback: the orig tarball of the trixie source package (its .dsc may be gone; the tarball stays).
ORT_SRC_VERSION=1.21.0+dfsg-1
ORT_ORIG_SHA256=32df1f82bd6b07b18372c0f387133214905cbde7a586b3ad83f0ed0075f80273

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$work/sources.list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
deb-src [signed-by=$keyring] http://deb.debian.org/debian trixie main
EOF
apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
        -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

echo "fetch_ort_headers: updating a private trixie apt index" >&2
apt_private update >&2

mkdir -p "$cache.tmp"
rm -rf "$cache.tmp"/*
got=0
# 1. The small binary package: headers flat in usr/include/onnxruntime/.
if (cd "$work/dl" && apt_private download libonnxruntime-dev >&2); then
    deb=$(ls "$work"/dl/libonnxruntime-dev_*.deb | head -n1)
    dpkg-deb -x "$deb" "$work/x"
    src=$(dirname "$(find "$work/x" -name onnxruntime_cxx_api.h | head -n1)")
    if [ -f "$src/onnxruntime_c_api.h" ]; then
        mkdir -p "$cache.tmp/include"
        cp "$src"/*.h "$cache.tmp/include/"
        got=1
    fi
fi
# 2. Fallback: the orig tarball of the source package, checked against its known sha256.
if [ "$got" = 0 ]; then
    echo "fetch_ort_headers: binary package unavailable, using the source tarball" >&2
    (cd "$work/dl" && apt_private source --download-only "onnxruntime=$ORT_SRC_VERSION" >&2) || true
    tarball=$(ls "$work"/dl/onnxruntime_*.orig.tar.* 2>/dev/null | head -n1 || true)
    [ -n "$tarball" ] || { echo "fetch_ort_headers: could not download onnxruntime headers" >&2; exit 1; }
    echo "$ORT_ORIG_SHA256  $tarball" | sha256sum -c - >&2
    tar -xf "$tarball" -C "$work" --wildcards '*/include/onnxruntime/core/session/*'
    src=$(dirname "$(find "$work" -path '*/core/session/onnxruntime_cxx_api.h' | head -n1)")
    mkdir -p "$cache.tmp/include"
    cp "$src"/*.h "$cache.tmp/include/"
fi

rm -rf "$cache"
mv "$cache.tmp" "$cache"
echo "$inc"
