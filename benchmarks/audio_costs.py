"""Costs of the sound (issue 25), in one run: the core's mix-down + resampling to 16 kHz per second of audio, by
format and rate; the voice-activity model per second of audio; the mouth measure per face crop; and the FFmpeg
filter's wall time on a real clip with and without its audio input (best of `--repeat`).

    python benchmarks/audio_costs.py [--clip ../shared/data/speakers/msdwild-00115/00115.mp4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from salcrop_filter import _core

REPO = Path(__file__).resolve().parents[1]


def cpu() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in out.splitlines() if line.startswith("Flags")), [])
    simd = [f for f in ("avx2", "avx512f", "fma") if f in flags]
    return f"{model}, {os.cpu_count()} CPUs, {' '.join(simd)}, load {os.getloadavg()[0]:.1f}"


def resample_ms_per_second(fmt: str, rate: int, channels: int, seconds: float = 10.0) -> float:
    t = np.arange(int(rate * seconds)) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    planes = np.repeat(x[None, :], channels, axis=0)
    if fmt.startswith("s16"):
        planes = (planes * 32767).astype(np.int16)
    blocks = []
    for start in range(0, planes.shape[1], 1024):
        part = planes[:, start:start + 1024]
        blocks.append((np.ascontiguousarray(part) if fmt.endswith("p") else np.ascontiguousarray(part.T).reshape(1, -1),
                       start / rate))
    track = _core.AudioTrack()
    t0 = time.perf_counter()
    for data, when in blocks:
        track.push(data, fmt, rate, when, channels=channels)
    track.end()
    return (time.perf_counter() - t0) * 1000 / seconds


def scorer_costs(seconds: float = 20.0) -> tuple[float, float]:
    """(VAD ms per second of audio, mouth measure ms per face crop) on noise and random crops."""
    rng = np.random.default_rng(0)
    audio = _core.AudioTrack()
    noise = (rng.normal(0, 0.1, int(16000 * seconds))).astype(np.float32)
    audio.push(noise[None, :], "flt", 16000, 0.0)
    audio.end()
    n = int(25 * seconds)
    crops = rng.integers(0, 255, (n, 112, 112), dtype=np.uint8)
    times = np.arange(n) / 25.0
    scorer = _core.SpeakerScorer(threads=1)
    t0 = time.perf_counter()
    scorer.score(crops, times, audio, 25.0)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    scorer.score(crops, times, audio, 25.0)  # the VAD's chunks are cached: the mouth measure alone
    again = time.perf_counter() - t0
    return (first - again) * 1000 / seconds, again * 1000 / n


def filter_wall(clip: Path, audio: bool, repeat: int) -> float:
    ffmpeg = REPO / "build" / "bin" / "ffmpeg"
    graph = "[0:v][0:a]salcrop=ratio=9/16:audio=1[v]" if audio else "[0:v]salcrop=ratio=9/16[v]"
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([str(ffmpeg), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(clip),
                        "-filter_complex", graph, "-map", "[v]", "-f", "null", "-"], check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=REPO.parent / "shared/data/speakers/msdwild-00115/00115.mp4")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {cpu()}; {platform.python_version()}")
    for fmt, rate, ch in [("fltp", 44100, 2), ("fltp", 48000, 2), ("s16", 48000, 2), ("s16", 48000, 6),
                          ("s16", 8000, 1), ("fltp", 96000, 2), ("fltp", 192000, 2)]:
        print(f"resample {fmt} {rate} Hz x{ch}: {resample_ms_per_second(fmt, rate, ch):.1f} ms per second of audio")
    vad, mouth = scorer_costs()
    print(f"voice activity (Silero, 1 thread): {vad:.1f} ms per second of audio; "
          f"mouth measure: {mouth:.3f} ms per face crop")
    if args.clip.is_file():
        plain = filter_wall(args.clip, False, args.repeat)
        heard = filter_wall(args.clip, True, args.repeat)
        print(f"ffmpeg salcrop on {args.clip.name}: one input {plain:.2f} s, with [0:a] {heard:.2f} s "
              f"(best of {args.repeat}; ratio {heard / plain:.3f})")


if __name__ == "__main__":
    main()
