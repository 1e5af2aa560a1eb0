"""Where the CPU of a 360° view goes: `perf record` on the real ffmpeg, its samples split into parts.

    python benchmarks/pano_profile.py INPUT [--ffmpeg PATH] [--vf FILTER] [--freq 499]

runs `perf record -F FREQ -g ffmpeg -i INPUT -vf FILTER -f null -` (default filter: the benchmark's
`salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080`) and sorts every sample by its call chain into:
decoding (libavcodec), the spill's write and read (pwrite/pread of the temporary file that frames past max_memory
wait in), the first touch of new memory (page faults under a memset: the frame pools growing while frames are
held), the view's rendering (the sampling rows and the per-frame nodes), the analysis in libsalcrop (thumbnails,
the network's input, maps), the model (ONNX Runtime), and the rest. Prints each part's share and seconds
(samples / FREQ), with `perf stat`'s page faults of a second run and the load average. Needs `perf` (Linux).
Issue 28 (stop 32): BENCHMARKS.md, "Issue 28 (stop 32)".
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIEW = "salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080"
RENDER = ("render_row", "row_spans", "ViewRenderer", "render_span", "atan2", "asin")


def part(chain: list[str]) -> str:
    """The part of the run a sample's call chain (innermost first, `symbol (dso)` each) belongs to."""
    whole = " ".join(chain)
    top = chain[0]
    if "pwrite" in whole:
        return "spill: write to the temporary file"
    if "pread" in whole:
        return "spill: read back"
    if "page_fault" in whole or "clear_page" in whole:
        return "first touch of new memory (page faults)"
    if any(k in top for k in RENDER):
        return "render: the view's sampling and nodes"
    if "libavcodec" in top:
        return "decode (libavcodec)"
    if "onnxruntime" in top:
        return "model (ONNX Runtime)"
    if "libsalcrop" in top:
        return "analysis (libsalcrop: thumbnails, network input, maps, planning)"
    if "memset" in top:
        return "memset (frame pools zeroing new buffers)"
    if "[kernel" in top:
        return "kernel, other"
    return "other"


def split(perf_data: Path) -> collections.Counter[str]:
    text = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "ip,sym,dso"], capture_output=True,
                          text=True, check=True).stdout
    counts: collections.Counter[str] = collections.Counter()
    chain: list[str] = []
    for line in text.splitlines() + [""]:
        if line.strip():
            fields = line.strip().split(None, 1)
            chain.append(fields[1] if len(fields) > 1 else fields[0])
        elif chain:
            counts[part(chain)] += 1
            chain = []
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", type=Path)
    ap.add_argument("--ffmpeg", type=Path, default=REPO / "build" / "bin" / "ffmpeg")
    ap.add_argument("--vf", default=VIEW)
    ap.add_argument("--freq", type=int, default=499)
    a = ap.parse_args()
    cmd = [str(a.ffmpeg), "-hide_banner", "-nostats", "-v", "error", "-i", str(a.input), "-vf", a.vf, "-f", "null",
           "-"]
    print("load average at the start:", " ".join(open("/proc/loadavg").read().split()[:3]))
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "perf.data"
        subprocess.run(["perf", "record", "-q", "-F", str(a.freq), "-g", "-o", str(data), *cmd], check=True,
                       capture_output=True)
        counts = split(data)
        stat = Path(d) / "stat.txt"
        subprocess.run(["perf", "stat", "-x,", "-e", "page-faults,task-clock", "-o", str(stat), *cmd], check=True,
                       capture_output=True)
        rows = [ln.split(",") for ln in stat.read_text().splitlines() if ln and not ln.startswith("#")]
        faults = {f[2]: f[0] for f in rows if len(f) > 2}
    total = sum(counts.values())
    print(f"{a.ffmpeg} -vf {a.vf}: {total} samples at {a.freq} Hz ({total / a.freq:.2f} s of CPU)")
    for name, n in counts.most_common():
        print(f"  {100 * n / total:5.1f}%  {n / a.freq:5.2f} s  {name}")
    print(f"perf stat (a second run): {faults.get('page-faults', '?')} page faults, task-clock "
          f"{float(faults.get('task-clock', 'nan')) / 1000:.2f} s")
    print("load average at the end:", " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
