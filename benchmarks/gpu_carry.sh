#!/usr/bin/env bash
# Run HERE (the set-up machine), before a device session: stages what gpu_bench.sh needs that the device machine
# lacks and cannot download, in .gpucarry/ (git-ignored, about 10 MB):
#   bin/ffmpeg + lib/ (this build's FFmpeg and libsalcrop.so, $ORIGIN rpaths) plus the libraries ldd resolves
#   outside glibc/libstdc++ (libx264...), and one real clip (the 1080p input is made from it on the device).
# The onnxruntime-gpu wheel travels separately, in pieces: ../shared/tools/gpu-ort-wheels.sh (cp312, CUDA 13).
# Then, in back-to-back device calls (the machine stays warm ~30 s between them):
#   the wheel pieces as gpu-ort-wheels.sh prints, each call carrying one .gpuwN;
#   last: run carry=[".gpucarry"] command: bash benchmarks/gpu_bench.sh   (timeout ~420 s)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
clip=${1:-../shared/videos/bigbuckbunny.mp4}
[[ -x build/bin/ffmpeg ]] || { echo "gpu_carry.sh: build/bin/ffmpeg is missing: run scripts/setup.sh" >&2; exit 1; }
grep -qx '/.gpucarry/' .git/info/exclude 2>/dev/null || echo '/.gpucarry/' >> "$(git rev-parse --git-path info/exclude)"
rm -rf .gpucarry && mkdir -p .gpucarry/bin .gpucarry/lib
cp build/bin/ffmpeg .gpucarry/bin/
cp -P build/lib/*.so* .gpucarry/lib/
# Libraries outside the base system the device surely has (glibc, libstdc++, libgcc, libm, zlib stays: tiny).
ldd build/bin/ffmpeg build/lib/libsalcrop.so | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
    case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libstdc++.so*|libgcc_s.so*|ld-linux*) ;;
    *) [[ -e .gpucarry/lib/$(basename "$lib") ]] || cp -L "$lib" .gpucarry/lib/ ;;
    esac
done
cp "$clip" .gpucarry/clip.mp4
du -sh .gpucarry
echo "staged .gpucarry/ (git-ignored); the device call carries it: carry=[\".gpucarry\"]"
