#!/usr/bin/env bash
# Installs the ONNX Runtime wheel that fits this machine into a virtualenv (scripts/setup.sh calls it):
#   no NVIDIA GPU: requirements.txt's CPU-only `onnxruntime` (28 MB wheel; the GPU wheel is 9x bigger and no faster
#                  on the CPU: README "ONNX Runtime: CPU or GPU wheel");
#   a GPU (nvidia-smi answers): requirements-gpu.txt, `onnxruntime-gpu` with its CUDA 13 / cuDNN 9 runtime wheels.
# usage: install_ort.sh [--dry-run | --which] VENV      (--which: print the branch line only)
#   SALCROP_GPU=auto (default) | 1 (as if a GPU answered) | 0 (CPU wheel whatever the machine has)
#   --dry-run: check that every pinned wheel of the chosen branch is on the registry (the index only: nothing is
#   downloaded or installed) and print "would install NAME==VERSION" lines: how the GPU branch is exercised on a
#   machine without a GPU.
# The first line of output says which branch and why.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dry=0 which=0
if [[ ${1:-} == --dry-run ]]; then dry=1; shift; elif [[ ${1:-} == --which ]]; then which=1; shift; fi
venv=${1:?usage: install_ort.sh [--dry-run | --which] VENV}
die() { printf 'install_ort.sh: error: %s\n' "$*" >&2; exit 1; }

mode=${SALCROP_GPU:-auto}
case $mode in
auto)
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        gpu=1; why="nvidia-smi answers: $(nvidia-smi -L 2>/dev/null | head -n1)"
    else
        gpu=0; why="no NVIDIA GPU (nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo 'lists none' || echo 'is not installed'))"
    fi ;;
1) gpu=1; why="SALCROP_GPU=1" ;;
0) gpu=0; why="SALCROP_GPU=0" ;;
*) die "SALCROP_GPU='$mode' is not auto, 0 or 1" ;;
esac

if ((gpu)); then
    echo "onnx runtime: onnxruntime-gpu with CUDA/cuDNN wheels ($why)"
    reqs=("$repo/requirements-gpu.txt")
    other=onnxruntime
else
    echo "onnx runtime: CPU-only onnxruntime ($why)"
    tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
    grep -E '^onnxruntime==' "$repo/requirements.txt" > "$tmp" || die "requirements.txt pins no onnxruntime"
    reqs=("$tmp")
    other=onnxruntime-gpu
fi
((which)) && exit 0

pip=("$venv/bin/python" -m pip)
if ((dry)); then
    # Each pin must exist on the registry for this Python and platform. `pip index versions` reads the index
    # only: a --dry-run install would download the wheels to read their metadata (cuDNN alone is 517 MB).
    # The pins themselves are the full resolution of `onnxruntime-gpu[cuda,cudnn]` (requirements-gpu.txt).
    sed -E 's/[[:space:]]*#.*//' "${reqs[@]}" | grep -E '==' | while read -r pin; do
        name=${pin%%==*}; name=${name%%[*}; version=${pin##*==}
        listed=$("${pip[@]}" index versions --only-binary=:all: "$name" 2>/dev/null | sed -n 's/^Available versions: //p')
        [[ ", $listed," == *", $version,"* ]] || die "$name==$version is not on the registry for this machine (it has: ${listed:-nothing})"
        echo "would install $name==$version"
    done
    exit 0
fi
# Both wheels install the same `onnxruntime` module: the other one goes first, or files of the two would mix.
if "${pip[@]}" show -q "$other" >/dev/null 2>&1; then
    "${pip[@]}" uninstall -q -y "$other"
fi
"${pip[@]}" install -q $(printf -- '-r %s ' "${reqs[@]}")
