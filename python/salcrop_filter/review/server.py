"""The editor's HTTP server: Starlette routes over a :class:`~.session.Session`, served by uvicorn.

Safety, because a local server is reachable by every program and every web page on the machine:
- every request must carry the session's token as the first part of its path (``/s/TOKEN/...``, the URL
  printed at start); anything else is refused with 403 before any route runs;
- the Host header must name this machine (a page elsewhere that rebinds its DNS name to 127.0.0.1 is refused),
  unless ``--host`` serves other machines on purpose;
- no part of a request becomes a file path: videos are addressed by their index on the command line, assets by
  their name in a table made at start, outputs are named by the server;
- every error is JSON ``{"error": message}`` with a 4xx status (5xx only for a bug, still without a traceback).
"""

from __future__ import annotations

import hmac
import json
import mimetypes
from importlib import resources
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from ..pipeline import ReframeError
from .planning import EditError, Plan
from .session import Busy, NotReady, Session
from .store import StaleEdit

__all__ = ["make_app", "load_assets", "LOCAL_HOSTS"]

LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
MAX_UPLOAD = 4 << 20  # a keyframes file is a few kB; more is a mistake
_ASSET_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}


def load_assets() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once into a table by name: the only files the server sends besides the videos."""
    out: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in _ASSET_TYPES:
            out[entry.name] = (entry.read_bytes(), _ASSET_TYPES[suffix])
    return out


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class TokenGate:
    """ASGI middleware: only paths under /s/TOKEN/ pass; everything else (any method, any path) is a 403."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.prefix = f"/s/{token}"

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Awaitable[Any]],
                       send: Callable[..., Awaitable[Any]]) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            head = path[: len(self.prefix)]
            ok = hmac.compare_digest(head.encode(), self.prefix.encode()) and path[len(self.prefix):len(self.prefix) + 1] in ("", "/")
            if not ok:
                await _error(403, "this request lacks the session token: use the URL salcrop review printed")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def _plan_json(version: int, plan: Plan, edits: Any, width: int, height: int) -> dict[str, Any]:
    w = plan.windows
    win_w, win_h = int(w[:, 2].max()), int(w[:, 3].max())
    axis = "x" if win_w < width else "y" if win_h < height else "none"
    return {
        "version": version, "ratio": plan.ratio, "window": [win_w, win_h], "axis": axis,
        "x": w[:, 0].tolist(), "y": w[:, 1].tolist(), "w": w[:, 2].tolist(), "h": w[:, 3].tolist(),
        "shots": [{"start": a, "end": b, "mode": m, "forced": plan.forced.get(k)}
                  for k, (a, b, m) in enumerate(plan.shots)],
        "segments": [[a, b, m] for a, b, m in plan.segments],
        **edits.to_dict(),
        **({} if plan.speaker is None else {"speaker": plan.speaker.tolist()}),
        "planned_ms": round(plan.seconds * 1000, 1), "planned_shots": plan.planned_shots,
    }


def make_app(session: Session, token: str, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The ASGI app. ``allowed_hosts``: Host header names accepted (None: this machine's names only;
    ["*"]: any, for --host)."""
    assets = load_assets()

    def video_id(request: Request) -> int:
        return int(request.path_params["vid"])

    def ratio_of(request: Request) -> str:
        ratio = request.query_params.get("ratio")
        if not ratio:
            raise EditError("name the ratio: ?ratio=9:16")
        return session.check_ratio(ratio)

    async def body_json(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > MAX_UPLOAD:
            raise HTTPException(413, f"the body is {len(raw)} bytes; at most {MAX_UPLOAD}")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise EditError(f"the body is not valid JSON: {e}") from None

    # --- pages and files -------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        if not request.url.path.endswith("/"):
            return RedirectResponse(request.url.path + "/", status_code=307)
        body, kind = assets["index.html"]
        return Response(body, media_type=kind, headers={"Cache-Control": "no-store"})

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404, f"no asset {request.path_params['name']!r}")
        return Response(found[0], media_type=found[1], headers={"Cache-Control": "no-store"})

    async def media(request: Request) -> Response:
        v = session.video(video_id(request))
        if v.analysis is not None and v.analysis.proxy is not None:  # the original does not play in a browser
            return FileResponse(v.analysis.proxy, media_type="video/mp4")
        kind = mimetypes.guess_type(v.path.name)[0] or "application/octet-stream"
        return FileResponse(v.path, media_type=kind)  # byte ranges, so the player can seek

    # --- the API ---------------------------------------------------------------------------------

    async def session_info(request: Request) -> Response:
        return JSONResponse({"videos": [v.summary() for v in session.videos], "ratios": session.ratios})

    async def analysis(request: Request) -> Response:
        v = session.video(video_id(request))
        out: dict[str, Any] = {"state": v.state, "error": v.error, "progress": v.progress.snapshot()}
        a = v.analysis
        if a is not None:
            out.update(frames=a.frames, fps=a.fps, width=a.width, height=a.height, times=a.times.tolist(),
                       shots=a.shot_ranges(), map=list(a.maps.shape[1:]), model=a.model, provider=a.provider,
                       media="proxy" if a.proxy is not None else "original")
            if v.planner is not None and v.planner.faces is not None:
                out["faces"] = [t.to_dict() for t in v.planner.faces]
        return JSONResponse(out)

    async def maps(request: Request) -> Response:
        data, shape = await run_in_threadpool(session.maps_u8, video_id(request))
        return Response(data, media_type="application/octet-stream",
                        headers={"X-Map-Shape": ",".join(map(str, shape)), "Cache-Control": "no-store"})

    async def plan(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        version, edits, p = await run_in_threadpool(session.plan, vid, ratio)
        v = session.video(vid)
        return JSONResponse(_plan_json(version, p, edits, v.width, v.height))

    async def put_edits(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        body = await body_json(request)
        if not isinstance(body, dict) or "version" not in body:
            raise EditError("edits: send {version, keyframes, modes} (version: the one the page last saw)")
        edits = {k: body[k] for k in body if k != "version"}
        version, e, p = await run_in_threadpool(session.set_edits, vid, ratio, edits, body["version"])
        v = session.video(vid)
        return JSONResponse(_plan_json(version, p, e, v.width, v.height))

    async def import_keyframes(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        raw = await request.body()
        if len(raw) > MAX_UPLOAD:
            raise HTTPException(413, f"the file is {len(raw)} bytes; a keyframes file is at most {MAX_UPLOAD}")
        try:
            text = raw.decode("utf-8")
            base = int(request.query_params.get("version", ""))
        except UnicodeDecodeError:
            raise EditError("the keyframes file is not UTF-8 text") from None
        except ValueError:
            raise EditError("name the version the page last saw: ?version=N") from None
        version, e, p = await run_in_threadpool(session.import_keyframes, vid, ratio, text, base)
        v = session.video(vid)
        return JSONResponse(_plan_json(version, p, e, v.width, v.height))

    async def pick_subject(request: Request) -> Response:
        """{version, frame, box: [x, y, w, h], id?}: track the box through its shot and keep it (docs/subjects.md);
        {version, frame, face: track id}: keep that face track (a speakers=auto analysis's) as the subject."""
        vid, ratio = video_id(request), ratio_of(request)
        body = await body_json(request)
        if isinstance(body, dict) and {"version", "frame", "face"} <= set(body) and "box" not in body:
            version, e, p = await run_in_threadpool(session.keep_face, vid, ratio, body["frame"], body["face"],
                                                    body["version"])
            v = session.video(vid)
            return JSONResponse(_plan_json(version, p, e, v.width, v.height))
        if not isinstance(body, dict) or not {"version", "frame", "box"} <= set(body):
            raise EditError("subjects: send {version, frame, box: [x, y, w, h], id (to redo a subject from there)} "
                            "or {version, frame, face: a face track's id}")
        version, e, p = await run_in_threadpool(session.track_subject, vid, ratio, body["frame"], body["box"],
                                                body["version"], body.get("id"))
        v = session.video(vid)
        return JSONResponse(_plan_json(version, p, e, v.width, v.height))

    async def subjects_json(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        text = await run_in_threadpool(session.subjects_text, vid, ratio)
        v = session.video(vid)
        return _download(text, f"{v.path.stem}_{ratio.replace(':', 'x')}.subjects.json")

    def _download(text: str, name: str) -> Response:
        return Response(text, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    async def path_json(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        path = await run_in_threadpool(session.crop_path, vid, ratio)
        v = session.video(vid)
        return _download(path.to_json(), f"{v.path.stem}_{ratio.replace(':', 'x')}.path.json")

    async def keyframes_json(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        text = await run_in_threadpool(session.keyframes_text, vid, ratio)
        v = session.video(vid)
        return _download(text, f"{v.path.stem}_{ratio.replace(':', 'x')}.keyframes.json")

    async def export(request: Request) -> Response:
        vid, ratio = video_id(request), ratio_of(request)
        written = await run_in_threadpool(session.export, vid, ratio)
        return JSONResponse({"written": written})

    async def render(request: Request) -> Response:
        body = await body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("ratios"), list) \
                or not all(isinstance(r, str) for r in body["ratios"]):
            raise EditError('render: send {"ratios": ["9:16", ...]}')
        job = await run_in_threadpool(session.render, video_id(request), body["ratios"])
        return JSONResponse(job.summary(), status_code=202)

    async def render_job(request: Request) -> Response:
        return JSONResponse(session.render_job(int(request.path_params["job"])).summary())

    # --- errors ----------------------------------------------------------------------------------

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, str(exc.detail))

    async def known_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StaleEdit):
            return _error(409, str(exc), stale=True, version=exc.current)
        if isinstance(exc, (NotReady, Busy)):
            return _error(409, str(exc))
        if isinstance(exc, KeyError):
            return _error(404, str(exc.args[0]) if exc.args else "not found")
        if isinstance(exc, ReframeError):
            return _error(422, str(exc))
        return _error(400, str(exc))  # EditError, OptionError, CropPathError, other ValueErrors

    async def bug(request: Request, exc: Exception) -> Response:
        # The traceback goes to the terminal (Starlette re-raises it to the server's log), the page gets one line.
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    api = [
        Route("/", index), Route("/static/{name}", asset), Route("/media/{vid:int}", media),
        Route("/api/session", session_info),
        Route("/api/videos/{vid:int}/analysis", analysis),
        Route("/api/videos/{vid:int}/maps", maps),
        Route("/api/videos/{vid:int}/plan", plan),
        Route("/api/videos/{vid:int}/edits", put_edits, methods=["PUT"]),
        Route("/api/videos/{vid:int}/keyframes", import_keyframes, methods=["POST"]),
        Route("/api/videos/{vid:int}/path.json", path_json),
        Route("/api/videos/{vid:int}/keyframes.json", keyframes_json),
        Route("/api/videos/{vid:int}/subjects", pick_subject, methods=["POST"]),
        Route("/api/videos/{vid:int}/subjects.json", subjects_json),
        Route("/api/videos/{vid:int}/export", export, methods=["POST"]),
        Route("/api/videos/{vid:int}/render", render, methods=["POST"]),
        Route("/api/renders/{job:int}", render_job),
    ]
    hosts = allowed_hosts if allowed_hosts is not None else LOCAL_HOSTS
    app = Starlette(routes=[Route(f"/s/{token}", index), Mount(f"/s/{token}", routes=api)],
                    middleware=[Middleware(TokenGate, token=token), Middleware(TrustedHostMiddleware,
                                                                               allowed_hosts=hosts)],
                    # By class, so ExceptionMiddleware answers them; only a bug reaches the catch-all.
                    exception_handlers={HTTPException: http_error, ValueError: known_error, KeyError: known_error,
                                        StaleEdit: known_error, NotReady: known_error, Busy: known_error,
                                        ReframeError: known_error, Exception: bug})
    return app
