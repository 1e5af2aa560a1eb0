#!/usr/bin/env bash
# Run ON THE DEVICE MACHINE (one NVIDIA GPU, no network), from the repository root, after the onnxruntime-gpu wheel
# was assembled there (../shared/tools/gpu-ort-wheels.sh: $HOME/gpuw/part* + NAME) and with .gpucarry/ carried
# (benchmarks/gpu_carry.sh). Writes everything under $OUT (or ./out/gpu when unset): gpu_bench.txt (the log),
# model.json (gpu_bench.py), e2e.tsv. One call of ~5-7 minutes; every stage is time-boxed and says when it is
# skipped, so one failure does not lose the rest.
#   1. installs the wheel into $HOME/ortsite (if not already), finds the CUDA/cuDNN wheels' libraries;
#   2. exports the model from models/salcrop.pt at 112x200 (default) and 288x512, FP32 and FP16, and the large
#      model from models/salcrop-large.pt (224x400, CUDA's default), FP32 and FP16; splits the 112x200 and
#      224x400 ones (the core's batching);
#   3. the model alone: batch 1/16/64, every size, both precisions (gpu_bench.py);
#   4. end to end, 1080p: ffmpeg -vf salcrop device=cuda (FP32, FP16; batching default and SALCROP_BATCH=1)
#      against -vf crop of the same size, libx264 veryfast, alternating, 3 pairs; and device=cpu once;
#      and with -hwaccel cuda if this FFmpeg build has it;
#   5. tests/test_gpu_path.py's CUDA-vs-CPU comparison, done here with the filter's crop paths.
set -uo pipefail
out=${OUT:-out/gpu}; mkdir -p "$out"
exec > >(tee "$out/gpu_bench.txt") 2>&1
say() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
py=${PYTHON:-python3}
say "machine"
nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; $py --version

say "onnxruntime-gpu"
if [[ ! -d $HOME/ortsite/onnxruntime ]]; then
    (cd "$HOME/gpuw" && cat part* > "$(cat NAME)" && $py -m pip install -q --no-index --no-deps --target "$HOME/ortsite" "$(cat NAME)") \
        || { echo "no onnxruntime-gpu wheel in \$HOME/gpuw: stage it with ../shared/tools/gpu-ort-wheels.sh"; exit 1; }
fi
export PYTHONPATH=$HOME/ortsite:$PWD/python
ort_lib=$(ls "$HOME"/ortsite/onnxruntime/capi/libonnxruntime.so.1.* | head -n1)
# The CUDA/cuDNN wheels this machine has (torch's): the core preloads from these folders.
cuda_libs=$($py -c 'import site, glob; print(":".join(sorted(glob.glob(site.getsitepackages()[0] + "/nvidia/*/lib"))))')
export SALCROP_ORT_LIBRARY=$ort_lib SALCROP_CUDA_LIBS=$cuda_libs
echo "library $ort_lib"; echo "SALCROP_CUDA_LIBS=$cuda_libs"
$py -c 'import onnxruntime as o; o.preload_dlls(); print(o.__version__, o.get_available_providers())'

say "models"
models=$out/models; mkdir -p "$models"
timeout 240 $py - "$models" <<'PY' || echo "model export failed"
import sys, pathlib
from salcrop_filter.export import export_onnx, export_fp16
from salcrop_filter.split import split_model
d = pathlib.Path(sys.argv[1])
for h, w in ((112, 200), (288, 512)):
    f = export_onnx(d / f"salcrop-{h}x{w}.onnx", height=h, width=w, checkpoint="models/salcrop.pt")
    half = export_fp16(f, d / f"salcrop-{h}x{w}-fp16.onnx")
    if (h, w) == (112, 200):
        for m in (f, half):
            split_model(m)
    print(f, half)
# The large model (its own weights, trained at 224x400; CUDA's default when installed), named by its size so
# gpu_bench.py measures it beside the small one; split like the default, since the core batches it the same way.
large = pathlib.Path("models/salcrop-large.pt")
if large.is_file():
    f = export_onnx(d / "salcrop-224x400.onnx", checkpoint=large)
    half = export_fp16(f, d / "salcrop-224x400-fp16.onnx")
    for m in (f, half):
        split_model(m)
    print(f, half)
PY
ls -la "$models"

say "model alone (gpu_bench.py)"
timeout 200 $py benchmarks/gpu_bench.py --models "$models" --json "$out/model.json" --seconds 2 || echo "model bench failed"

say "end to end, 1080p"
ff=.gpucarry/bin/ffmpeg
if [[ ! -x $ff ]] || ! $ff -hide_banner -version > /dev/null 2>&1; then
    echo "skipped: .gpucarry/bin/ffmpeg does not run here ($(ldd $ff 2>&1 | grep 'not found' | head -3))"
else
    $ff -hide_banner -loglevel error -y -i .gpucarry/clip.mp4 -vf scale=1920:1080 -c:v libx264 -preset veryfast -crf 18 -an "$out/in1080.mp4"
    m32=$models/salcrop-112x200.onnx m16=$models/salcrop-112x200-fp16.onnx
    enc=(-c:v libx264 -preset veryfast -an -f mp4)
    run() { # label, env..., -- ffmpeg args
        local label=$1; shift; local envs=(); while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
        local s=$EPOCHREALTIME
        env "${envs[@]}" timeout 120 $ff -nostdin -hide_banner -loglevel error -y -i "$out/in1080.mp4" "$@" || echo "$label failed"
        printf '%s\t%s\n' "$label" "$(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b-a}')" | tee -a "$out/e2e.tsv"
    }
    # One info run for the log line (provider, reason, batching).
    $ff -hide_banner -nostdin -v info -i "$out/in1080.mp4" -frames:v 30 -vf "salcrop=device=cuda:model=$m32" -f null - 2>&1 | grep -i "salcrop"
    for rep in 1 2 3; do
        run crop -- -vf crop=608:1080 "${enc[@]}" "$out/crop.mp4"
        run salcrop_cuda_fp32 X=1 -- -vf "salcrop=device=cuda:model=$m32:path=$out/path_cuda.json" "${enc[@]}" "$out/s32.mp4"
        run salcrop_cuda_fp16 X=1 -- -vf "salcrop=device=cuda:model=$m16" "${enc[@]}" "$out/s16.mp4"
        run salcrop_cuda_fp32_nobatch SALCROP_BATCH=1 -- -vf "salcrop=device=cuda:model=$m32" "${enc[@]}" "$out/s1.mp4"
        # The large model (CUDA's default when installed), if it was exported above.
        [[ -f $models/salcrop-224x400.onnx ]] && run salcrop_cuda_large X=1 -- \
            -vf "salcrop=device=cuda:model=$models/salcrop-224x400.onnx" "${enc[@]}" "$out/slarge.mp4"
    done
    run salcrop_cpu_fp32 X=1 -- -vf "salcrop=device=cpu:model=$m32:path=$out/path_cpu.json" "${enc[@]}" "$out/scpu.mp4"
    if $ff -hide_banner -hwaccels 2>/dev/null | grep -qx cuda; then
        run crop_nvdec X=1 -- -hwaccel cuda -vf crop=608:1080 "${enc[@]}" "$out/crop_nv.mp4"
        run salcrop_cuda_nvdec X=1 -- -hwaccel cuda -vf "salcrop=device=cuda:model=$m32" "${enc[@]}" "$out/s_nv.mp4"
    else
        echo "NVDEC: this FFmpeg build has no cuda hwaccel (-hwaccels lists: $($ff -hide_banner -hwaccels | tail -n +2 | tr '\n' ' '))"
    fi
    $py - "$out" <<'PY'
import json, sys, statistics, collections, pathlib
out = pathlib.Path(sys.argv[1])
t = collections.defaultdict(list)
for line in (out / "e2e.tsv").read_text().splitlines():
    k, v = line.split("\t"); t[k].append(float(v))
crop = statistics.median(t["crop"])
for k, v in t.items():
    print(f"{k:28s} median {statistics.median(v):7.2f} s  ratio to crop {statistics.median(v) / crop:5.2f}  ({v})")
try:
    a = json.loads((out / "path_cuda.json").read_text())["frames"]
    b = json.loads((out / "path_cpu.json").read_text())["frames"]
    w = json.loads((out / "path_cpu.json").read_text())["source"]["width"]
    print("CUDA vs CPU crop paths: frames", len(a), len(b), "max |dx| / width",
          max(abs(p["x"] - q["x"]) for p, q in zip(a, b)) / w,
          "same shots:", [f["shot"] for f in a] == [f["shot"] for f in b])
except Exception as e:  # noqa: BLE001 - a report, not a test
    print("path comparison failed:", e)
PY
fi
say "done"
