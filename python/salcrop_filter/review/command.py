"""``salcrop review in.mp4 [--ratio 9:16,1:1,4:5]``: the local web editor's command line.

Exit status: 0 after the server stops (Ctrl-C), 2 for a usage error (bad option, a ratio that is unknown or
given twice, an input that is missing or not a video), 1 when the server cannot start. Errors are one line
(``salcrop review: error: ...``), never a traceback, and nothing is written before the inputs are checked.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
import threading
from pathlib import Path

from .. import commands

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = commands.parser(
        "review",
        "Review and correct the crop path of videos in a browser, for one or several ratios, then export or render "
        "them. The saliency is computed once per video (and cached); every edit re-plans from it at once.",
        "example (two ratios in the browser; exports land beside the input):\n  salcrop review in.mp4 --ratio 9:16,1:1")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video file(s) to review")
    p.add_argument("--ratio", default="9:16", help="target aspects, comma-separated (default 9:16; e.g. 9:16,1:1,4:5)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="folder for exports and renders (default: beside each input), named IN_9x16.mp4, "
                        "IN_9x16.path.json, IN_9x16.keyframes.json")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; anything else is reachable "
                        "from other machines, with only the token to protect it)")
    p.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    g = p.add_argument_group("analysis and planner options (the FFmpeg filter's)")
    g.add_argument("--model", help="ONNX saliency model (default: the bundled one)")
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), help="inference device")
    g.add_argument("--threads", type=int, help="CPU inference threads (0 = automatic)")
    g.add_argument("--stride", type=int, help="run the network every N-th frame while the picture changes")
    g.add_argument("--scene-threshold", type=float, help="shot-cut sensitivity; higher = fewer cuts, 0 = none")
    g.add_argument("--speakers", choices=("auto", "off"),
                   help="auto: also find the faces and hear who speaks (the input's audio), shown as face lanes to "
                        "pin or ignore (docs/review.md); off: saliency only (default: auto for a video with sound, "
                        "as salcrop does)")
    g.add_argument("--smoothing", type=float, help="camera smoothing 0..1; higher = calmer")
    g.add_argument("--lookahead", type=float, help="seconds of future the planner may see (0.1..60)")
    return p


def _free_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _open_browser(url: str) -> None:
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        print("salcrop review: no browser found here; open the URL above in one", file=sys.stderr, flush=True)
        return
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    def usage(message: str) -> int:
        print(f"salcrop review: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    if not 0 <= args.port <= 65535:
        return usage(f"--port {args.port}: must be 0 (a free port) to 65535")
    inputs = [Path(i) for i in args.inputs]
    for i in inputs:
        if not i.is_file():
            return usage(f"{i}: no such file")
    if len({i.resolve() for i in inputs}) != len(inputs):
        return usage("an input is named twice")
    stems = [i.stem for i in inputs]
    if args.output is not None or len({i.parent.resolve() for i in inputs}) == 1:
        dupes = sorted({s for s in stems if stems.count(s) > 1})
        if dupes:
            return usage(f"several inputs are named {', '.join(dupes)}: their outputs would collide")
    if args.output is not None and Path(args.output).exists() and not Path(args.output).is_dir():
        return usage(f"-o {args.output}: not a folder")

    try:
        from ..pipeline import OptionError, ReframeError
        from .analysis import AnalysisOptions
        from .planning import parse_ratio_list
        from .session import Session, SessionOptions
    except ImportError as e:
        print(f"salcrop review: error: a part is missing ({e}); run scripts/setup.sh", file=sys.stderr)
        return EXIT_FAILED
    try:
        ratios = parse_ratio_list(args.ratio)
    except ValueError as e:
        return usage(str(e))
    options = SessionOptions(
        analysis=AnalysisOptions(model=args.model, device=args.device, threads=args.threads, stride=args.stride,
                                 scene_threshold=args.scene_threshold, speakers=args.speakers),
        smoothing=args.smoothing, lookahead=args.lookahead,
        output_dir=Path(args.output) if args.output else None)
    try:  # before the analysis, which takes a while: the server's packages are an extra of the wheel
        import uvicorn

        from .server import make_app
    except ImportError as e:
        print(f"salcrop review: error: the editor needs starlette and uvicorn ({e}): "
              "pip install 'salcrop_filter[review]' (scripts/setup.sh installs them in the repository)",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        session = Session(inputs, ratios, options)
    except (OptionError, ReframeError, ValueError) as e:
        return usage(str(e))

    local = args.host in ("127.0.0.1", "localhost", "::1")
    if not local:
        print(f"salcrop review: warning: --host {args.host}: the editor is reachable from other machines; anyone "
              "with the URL (its token) can read these videos and write beside them", file=sys.stderr)
    try:
        sock = _free_socket(args.host, args.port)
    except OSError as e:
        print(f"salcrop review: error: cannot listen on {args.host}:{args.port}: {e.strerror}", file=sys.stderr)
        return EXIT_FAILED
    token = secrets.token_urlsafe(24)
    app = make_app(session, token, allowed_hosts=None if local else ["*"])
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/s/{token}/"
    session.start()
    print(f"salcrop review: {len(inputs)} video(s), ratios {', '.join(ratios)}", file=sys.stderr)
    print(f"salcrop review: open {url}", flush=True)
    print("salcrop review: Ctrl-C stops it", file=sys.stderr, flush=True)
    if not args.no_browser:
        _open_browser(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
        sock.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
