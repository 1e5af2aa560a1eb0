#!/usr/bin/env bash
# The README's first command: sets everything up, fetches a real clip and reframes it to 9:16 with the
# ffmpeg filter. Output in out/ (or $1): sample_9x16.mp4 and the crop path path.json.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "${1:-$repo/out}" && cd "${1:-$repo/out}" && pwd)
bash "$repo/scripts/setup.sh"
sample=$(bash "$repo/scripts/fetch_sample.sh" | tail -n1)
# The README's further examples start from this copy.
cp -f "$sample" "$out/sample.mp4"

echo "==> reframing $sample to 9:16"
start=$EPOCHREALTIME
if ! "$repo/build/bin/ffmpeg" -hide_banner -nostats -y -i "$sample" \
        -vf "salcrop=ratio=9/16:path=$out/path.json" -c:v libx264 -preset veryfast -crf 20 \
        "$out/sample_9x16.mp4" > "$out/ffmpeg.log" 2>&1; then
    tail -20 "$out/ffmpeg.log" >&2
    echo "demo.sh: ffmpeg failed (log: $out/ffmpeg.log)" >&2
    exit 1
fi
grep 'Parsed_salcrop' "$out/ffmpeg.log" || true
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
size=$("$repo/build/bin/ffprobe" -v error -select_streams v:0 -show_entries stream=width,height,nb_frames \
    -of csv=p=0 "$out/sample_9x16.mp4")
echo "==> done in $secs s"
echo "    video:     $out/sample_9x16.mp4 (width,height,frames: $size)"
echo "    crop path: $out/path.json"
echo "    source:    $out/sample.mp4 (for the README's other examples)"
