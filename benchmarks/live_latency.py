#!/usr/bin/env python3
"""Live: a stream in, a vertical stream out, and the delay salcrop adds (it reports; tests/test_live.py judges).

Three processes on 127.0.0.1, as a live set-up has them:

1. the sender: ``ffmpeg -re -readrate_initial_burst 0 -i CLIP -c copy -f mpegts srt://...`` plays a real clip
   at its own pace (no initial burst, so frame t leaves at t seconds);
2. the relay under test: ``ffmpeg -i srt://...?mode=listener -vf GRAPH -c:v libx264 -preset veryfast -tune
   zerolatency -f mpegts srt://...`` (or ``-f flv rtmp://...``), GRAPH being ``salcrop=lookahead=1`` or, for
   comparison, a plain centre ``crop`` of the same size;
3. the reader: ``ffmpeg -i srt://...?mode=listener`` (or ``-listen 1 -i rtmp://...``) writing a framecrc line per
   frame, flushed at once; this script notes the wall time each line arrives.

A frame's delay is its arrival time minus (the sender's launch + its time in the clip): what a viewer of the
vertical copy waits beyond the original, including both ffmpeg start-ups, probing and the transport. The
start-up delay is the first frame's; the steady one the median over the second half, the worst its longest; "drift" (the last
quarter's median minus the second quarter's) stays near zero when the relay keeps real time. The clip's last
2 s are left out of these (LiveRun.body: they measure how the stream ends, not the relay). The delay added
by salcrop is its figure minus the plain crop's in the same set-up, runs alternating crop, salcrop, crop, ...

Usage::

    python benchmarks/live_latency.py [--clip ../shared/videos/chaplin.mp4] [--seconds 8] [--pairs 3]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shlex
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CROP_9_16 = "crop=trunc(ih*9/16/2)*2:ih"
SALCROP = "salcrop=lookahead=1"
TAIL = 2.0  # seconds at the end of the clip left out of the figures: the lookahead (1 s) and a margin


def free_port(kind: int) -> int:
    """A port nothing listens on now (UDP for SRT, TCP for RTMP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveRun:
    transport: str
    graph: str
    fps: float
    arrivals: list[tuple[float, float]] = field(default_factory=list)  # (wall s since the sender's launch, frame s)
    relay_log: str = ""
    relay_rc: int | None = None
    reader_error: str | None = None

    @property
    def body(self) -> list[tuple[float, float]]:
        """The arrivals but the clip's last TAIL seconds: the relay's decoder holds its last (reordered) frames,
        and salcrop its last lookahead, until the input ends, which over SRT is only when the connection
        closes; that tail measures the end of the stream, not the relay."""
        end = self.arrivals[-1][1] - TAIL
        return [a for a in self.arrivals if a[1] < end]

    @property
    def delays(self) -> list[float]:
        return [wall - t for wall, t in self.body]

    @property
    def startup(self) -> float:
        return self.delays[0]

    @property
    def steady(self) -> float:
        d = self.delays
        return statistics.median(d[len(d) // 2:])

    @property
    def worst(self) -> float:
        """The longest delay over the second half: what a player must buffer not to stall, where frames arrive in
        bursts (a chunk's decisions at once) as where they arrive one by one."""
        d = self.delays
        return max(d[len(d) // 2:])

    @property
    def drift(self) -> float:
        d = self.delays
        n = len(d)
        return statistics.median(d[3 * n // 4:]) - statistics.median(d[n // 4: n // 2])

    @property
    def rate(self) -> float:
        """Frames per second arriving over the second half of the body."""
        half = self.body[len(self.body) // 2:]
        return (len(half) - 1) / (half[-1][0] - half[0][0])


def _read(ffmpeg: Path, url: str, options: list[str], run: LiveRun, t0: list[float], proc: list) -> None:
    """The third process: ffmpeg reads the relay's stream and writes a framecrc line per video frame, flushed at
    once; the arrival of each line is the frame's arrival. (PyAV 16.1 crashes opening an RTMP listener, so the
    reader is ffmpeg itself.)"""
    cmd = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-probesize", "65536",
           "-analyzeduration", "500000", *options, "-i", url, "-map", "0:v:0", "-flush_packets", "1",
           "-f", "framecrc", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.append(p)
    tb: Fraction | None = None
    first: int | None = None
    assert p.stdout is not None
    for raw in p.stdout:
        now = time.monotonic()
        line = raw.decode(errors="replace")
        if line.startswith("#tb 0:"):
            tb = Fraction(line.split(":", 1)[1].strip())
        elif line.startswith("0,") and tb is not None:
            pts = int(line.split(",")[2])
            first = pts if first is None else first
            run.arrivals.append((now - t0[0], float((pts - first) * tb)))
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    rc = p.wait()
    # libsrt has no end-of-stream: the sender closing the connection reads as an I/O error after the last packet.
    if rc != 0 and not (url.startswith("srt:") and run.arrivals and "Input/output error" in err):
        run.reader_error = f"reader exit {rc}: {err[-1000:]}"


def live_run(ffmpeg: Path, clip: Path, graph: str, transport: str = "srt", seconds: float = 8.0,
             fps: float = 25.0, timeout: float = 120.0) -> LiveRun:
    """One sender -> relay(graph) -> reader run; ``transport`` is the relay's output: "srt" or "rtmp"."""
    run = LiveRun(transport, graph, fps)
    p_in = free_port(socket.SOCK_DGRAM)
    if transport == "srt":
        p_out = free_port(socket.SOCK_DGRAM)
        read_url, read_opts = f"srt://127.0.0.1:{p_out}?mode=listener&listen_timeout=30000000", []
        out = ["-f", "mpegts", f"srt://127.0.0.1:{p_out}?mode=caller&connect_timeout=10000&linger=10"]
    elif transport == "rtmp":
        p_out = free_port(socket.SOCK_STREAM)
        # FLV announces a stream with its first packet, and the audio's come first (salcrop holds the video back
        # for its lookahead): a probe shorter than that finds no video stream.
        read_url, read_opts = f"rtmp://127.0.0.1:{p_out}/live/vertical", ["-analyzeduration", "3000000", "-listen", "1",
                                                                           "-timeout", "30"]
        out = ["-f", "flv", f"rtmp://127.0.0.1:{p_out}/live/vertical"]
    else:
        raise ValueError(f"transport: {transport!r} is not 'srt' or 'rtmp'")
    base = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-v", "error"]
    # Probe little: ffmpeg's default (up to 5 s of stream before the first frame is decoded) is start-up delay.
    relay_cmd = base + ["-probesize", "65536", "-analyzeduration", "500000",
                        "-i", f"srt://127.0.0.1:{p_in}?mode=listener&listen_timeout=30000000", "-vf", graph,
                        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", str(round(2 * fps)),
                        "-c:a", "aac", *out]
    sender_cmd = base + ["-re", "-readrate_initial_burst", "0", "-t", str(seconds), "-i", str(clip), "-c", "copy",
                         "-f", "mpegts", f"srt://127.0.0.1:{p_in}?mode=caller&connect_timeout=10000&linger=10"]
    t0 = [time.monotonic()]
    reader_proc: list[subprocess.Popen] = []
    reader = threading.Thread(target=_read, args=(ffmpeg, read_url, read_opts, run, t0, reader_proc), daemon=True)
    reader.start()
    time.sleep(0.5)  # the reader listens before the relay can send (it connects only after its first frame)
    relay = subprocess.Popen(relay_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sender = None
    try:
        time.sleep(1.0)  # the relay's SRT listener is up well before this (its input opens first)
        t0[0] = time.monotonic()
        sender = subprocess.Popen(sender_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        sender.wait(timeout=max(1.0, deadline - time.monotonic()))
        _, err = relay.communicate(timeout=max(1.0, deadline - time.monotonic()))
        run.relay_log, run.relay_rc = err.decode(errors="replace"), relay.returncode
        reader.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for p in (sender, relay, *reader_proc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    if reader.is_alive():
        run.reader_error = run.reader_error or "the reader did not finish in time"
    return run


def command_line(graph: str) -> str:
    return shlex.join(["ffmpeg", "-i", "srt://0.0.0.0:9000?mode=listener", "-vf", graph, "-c:v", "libx264",
                       "-preset", "veryfast", "-tune", "zerolatency", "-c:a", "aac", "-f", "mpegts",
                       "srt://viewer:9001"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ffmpeg", type=Path, default=REPO / "build" / "bin" / "ffmpeg")
    ap.add_argument("--clip", type=Path, default=REPO.parent / "shared" / "videos" / "chaplin.mp4")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    import av

    with av.open(str(args.clip)) as c:
        v = c.streams.video[0]
        fps = float(v.average_rate or 25)
        size = f"{v.codec_context.width}x{v.codec_context.height}"
    runs: dict[tuple[str, str], list[LiveRun]] = {}
    for transport in ("srt", "rtmp"):
        for _ in range(args.pairs):
            for graph in (CROP_9_16, SALCROP):
                r = live_run(args.ffmpeg, args.clip, graph, transport, args.seconds, fps)
                if r.reader_error or not r.arrivals:
                    raise SystemExit(f"{transport} {graph}: {r.reader_error} {r.relay_log[-1000:]}")
                runs.setdefault((transport, graph), []).append(r)
    load = os.getloadavg()
    print(f"## Live relay latency (benchmarks/live_latency.py), {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print()
    print(f"{platform.node()}: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), load average "
          f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end. Clip {args.clip.name} ({size}, {fps:g} fps, first "
          f"{args.seconds:g} s, audio), sent with -re over SRT; {args.pairs} runs each, alternating; medians.")
    print()
    print("| relay output | graph | frames | start-up delay (s) | steady delay (s) | worst delay (s) | drift (s) "
          "| frames/s arriving |")
    print("|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for (transport, graph), rs in runs.items():
        print(f"| {transport} | `{graph}` | {med(len(r.arrivals) for r in rs):g} | {med(r.startup for r in rs):.2f} | "
              f"{med(r.steady for r in rs):.2f} | {med(r.worst for r in rs):.2f} | {med(r.drift for r in rs):+.2f} | "
              f"{med(r.rate for r in rs):.1f} |")
    print()
    for transport in ("srt", "rtmp"):
        c, s = runs[(transport, CROP_9_16)], runs[(transport, SALCROP)]
        print(f"- {transport}: salcrop adds {med(r.startup for r in s) - med(r.startup for r in c):.2f} s at start-up "
              f"and {med(r.steady for r in s) - med(r.steady for r in c):.2f} s in the steady state "
              f"({med(r.worst for r in s) - med(r.worst for r in c):.2f} s at worst) over the plain crop.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
