"""Cost of a 360° view against a plain scale of the same output size, in one run on this machine.

A 4K-class equirect input (3840x1920, the battle clip scaled up, --seconds long, stored as lossless-ish
x264) is decoded by both commands; each writes to the null muxer so encoding is left out:

    ffmpeg -i in4k.mp4 -vf salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080 -f null -
    ffmpeg ... the same with speakers=off   (no faces on the sphere: the default until stop 35)
    SALCROP_RENDER_SIMD=0 ffmpeg ... the same   (the plain sampling loop: the renderer before issue 28)
    ffmpeg -i in4k.mp4 -vf salcrop=projection=equirect:...:lookahead=0.5 -f null -   (fewer frames buffered)
    ffmpeg -i in4k.mp4 -vf salcrop=ratio=16/9 -f null -   (today's flat crop: the same buffering and model)
    ffmpeg -i in4k.mp4 -vf scale=1920:1080 -f null -
    ffmpeg -i in4k.mp4 -f null -           (decoding alone)
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 ffmpeg ...   (salcrop and scale: frame buffers in transparent huge
                                                        pages, fewer page faults while the frame pool grows)
    --baseline FFMPEG: that binary's salcrop row (e.g. main's build) in the same run
    --in-memory: a salcrop row with max_memory=4096, every held frame in memory (none through the temporary file
                 that the default 448 MB budget sends 4K frames to): what the spill costs (issue 28, stop 32)
    --no-hugetlb: leave out the two huge-page rows
    --source CLIP --start S: another equirect clip scaled up instead of the battle clip (e.g. Alcatraz from 22 s:
                 the tour group around the camera, where the view cuts to a person; issue 28, stop 36)

run alternately --repeat times; the medians of wall and CPU time (ffmpeg -benchmark: user + sys) are printed,
with the ratio salcrop / scale, the CPU model, its SIMD flags and the load average.

    python benchmarks/pano_render.py [--seconds 4] [--repeat 3] [--baseline /path/to/ffmpeg] [--only-view]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FFMPEG = REPO / "build" / "bin" / "ffmpeg"
SRC = REPO.parent / "shared" / "data" / "pano360" / "videos" / "battle1941_640x320.mp4"


def bench(args: list[str], env: dict[str, str] | None = None, ffmpeg: Path = FFMPEG) -> tuple[float, float]:
    out = subprocess.run([str(ffmpeg), "-hide_banner", "-nostats", "-benchmark", *args], capture_output=True,
                         text=True, check=True, env={**os.environ, **(env or {})}).stderr
    m = re.search(r"bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s", out)
    assert m, out[-2000:]
    return float(m.group(3)), float(m.group(1)) + float(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="another ffmpeg with salcrop (e.g. main's build): its salcrop row "
                    "beside this one's, same input, same run (issue 28)")
    ap.add_argument("--only-view", action="store_true", help="leave out the plain loop, lookahead 0.5 and flat rows")
    ap.add_argument("--in-memory", action="store_true", help="add salcrop with max_memory=4096 (no frame spilled)")
    ap.add_argument("--no-hugetlb", action="store_true", help="leave out the huge-page rows")
    ap.add_argument("--source", type=Path, default=SRC,
                    help="the equirect clip scaled up to 3840x1920 (default: the battle clip, no face that counts; "
                    "../shared/data/pano360/videos/alcatraz_640x322.mp4 --start 22: the tour group around the camera)")
    ap.add_argument("--start", type=float, default=0.0, help="seconds into --source")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in4k.mp4"
        subprocess.run([str(FFMPEG), "-v", "error", "-y", "-ss", str(a.start), "-t", str(a.seconds), "-i", str(a.source),
                        "-vf",
                        "scale=3840:1920:flags=bicubic", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12",
                        str(src)], check=True)
        runs: dict[str, list[tuple[float, float]]] = {}
        cmds = {
            "salcrop": ["-i", str(src), "-vf", "salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080",
                        "-f", "null", "-"],
            "salcrop_no_faces": ["-i", str(src), "-vf", "salcrop=projection=equirect:ratio=16/9:fov=90:"
                                 "size=1920x1080:speakers=off", "-f", "null", "-"],
            "salcrop_plain_loop": ["-i", str(src), "-vf", "salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080",
                                   "-f", "null", "-"],
            "salcrop_la05": ["-i", str(src), "-vf",
                             "salcrop=projection=equirect:ratio=16/9:fov=90:size=1920x1080:lookahead=0.5", "-f",
                             "null", "-"],
            "flat_crop": ["-i", str(src), "-vf", "salcrop=ratio=16/9", "-f", "null", "-"],
            "scale": ["-i", str(src), "-vf", "scale=1920:1080", "-f", "null", "-"],
            "decode": ["-i", str(src), "-f", "null", "-"],
        }
        env: dict[str, dict[str, str]] = {"salcrop_plain_loop": {"SALCROP_RENDER_SIMD": "0"},
                                          # the decoder's frame pool in huge pages: 512x fewer page faults to zero
                                          "salcrop_hugetlb": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"},
                                          "scale_hugetlb": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}}
        cmds["salcrop_hugetlb"] = cmds["salcrop"]
        cmds["scale_hugetlb"] = cmds["scale"]
        if a.only_view:
            for k in ("salcrop_plain_loop", "salcrop_la05", "flat_crop"):
                del cmds[k]
        if a.no_hugetlb:
            for k in ("salcrop_hugetlb", "scale_hugetlb"):
                del cmds[k]
        if a.in_memory:
            cmds["salcrop_in_memory"] = ["-i", str(src), "-vf", "salcrop=projection=equirect:ratio=16/9:fov=90:"
                                         "size=1920x1080:max_memory=4096", "-f", "null", "-"]
        binary = {k: FFMPEG for k in cmds}
        if a.baseline:
            cmds["salcrop_baseline"] = cmds["salcrop"]
            binary["salcrop_baseline"] = a.baseline
        for _ in range(a.repeat):
            for k, c in cmds.items():
                runs.setdefault(k, []).append(bench(c, env.get(k), binary[k]))
        med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in runs.items()}
        frames = int(subprocess.run([str(FFMPEG.with_name("ffprobe")), "-v", "error", "-count_packets",
                                     "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(src)],
                                    capture_output=True, text=True, check=True).stdout.split()[0])
        print("load average at the end:", " ".join(open("/proc/loadavg").read().split()[:3]))
        for k, (wall, cpu) in med.items():
            print(f"{k:12s} wall {wall:6.2f} s ({1000 * wall / frames:5.1f} ms/frame)  cpu {cpu:6.2f} s")
        for k in (k for k in med if k not in ("scale", "decode")):
            print(f"ratio {k}/scale: wall {med[k][0] / med['scale'][0]:.2f}, cpu {med[k][1] / med['scale'][1]:.2f}")


def machine() -> str:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s*(.+)", cpu)
    flags = re.search(r"Flags:\s*(.+)", cpu)
    simd = sorted(f for f in (flags.group(1).split() if flags else []) if f.startswith(("avx", "sse", "fma")))
    return (f"{model.group(1) if model else '?'}, {os.cpu_count()} logical cores, flags {' '.join(simd)}; "
            f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    print(machine())
    main()
