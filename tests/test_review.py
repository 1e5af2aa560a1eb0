"""`salcrop review`, the local web editor, as a person uses it: a real server process on a real clip, driven in
a real Chromium (Debian's, headless, through Playwright), with the real core and model behind it.

The page is checked against the core itself: after a drag, the exported path must be exactly what
`_core.plan_path` plans with that keyframe over the engine's own maps (computed here by a separate engine pass),
and a render must be the path `salcrop --keyframes` plans with the exported keyframes file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
import pytest

from salcrop_filter import CropPath

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CLIP = "testvideo.mp4"  # 1280x720, 29.97 fps, 720 frames, three shots (cuts at 201 and 382)
PIN_FRAME = 300  # in the second shot


def review(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salcrop_filter", "review", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=env)


class Server:
    """`salcrop review ... --no-browser` in its own process; the URL is what it prints."""

    def __init__(self, args: list[object], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "salcrop_filter", "review", *map(str, args),
                                      "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/s/([\w-]+)/)", line)
        if not m:
            self.proc.kill()
            pytest.fail(f"no URL printed: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.url, self.port, self.token = m.group(1), int(m.group(2)), m.group(3)
        self.root = f"http://127.0.0.1:{self.port}/"

    def request(self, method: str, path: str, body: bytes | str | None = None,
                root: str | None = None) -> tuple[int, Any]:
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request((root or self.url) + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw, status, kind = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw, status, kind = e.read(), e.code, e.headers.get("Content-Type", "")
        return status, json.loads(raw) if "json" in kind else raw

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review")


@pytest.fixture(scope="module")
def env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "SALCROP_CACHE": str(workdir / "cache")}


@pytest.fixture(scope="module")
def server(shared_videos: Path, workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    s = Server([shared_videos / CLIP, "--ratio", "9:16,1:1", "-o", workdir / "out"], env)
    yield s
    err = s.stop()
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing ({CHROMIUM}): scripts/setup.sh installs Debian's chromium", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def engine_maps(shared_videos: Path) -> tuple[np.ndarray, list[int], int, int, float]:
    """The streaming engine's own per-frame maps and cuts for the clip, from a pass of our own (not the editor's)."""
    from salcrop_filter import _core
    from salcrop_filter.pipeline import Picture

    with av.open(str(shared_videos / CLIP)) as c:
        v = c.streams.video[0]
        fps = float(v.guessed_rate)
        engine, maps, shots = None, [], []
        for frame in c.decode(v):
            pic = Picture(frame)  # the frame as reframe() hands it to the core (planar YUV)
            if engine is None:
                engine = _core.Engine(pic.width, pic.height, fps, keep_maps=True)
            pic.push_to(engine, frame.time)
            while d := engine.pop(1):
                maps.append(engine.popped_map())
                shots.append(d[0].shot)
        while d := engine.flush(1):
            maps.append(engine.popped_map())
            shots.append(d[0].shot)
    cuts = [i for i in range(1, len(shots)) if shots[i] != shots[i - 1]]
    return np.stack(maps), cuts, pic.width, pic.height, fps


def wait_analysed(s: Server) -> dict[str, Any]:
    while True:
        _, info = s.request("GET", "api/videos/0/analysis")
        if info["state"] in ("ready", "failed"):
            return info
        time.sleep(0.2)


def wait_ready(page: Any) -> None:
    page.wait_for_selector("body[data-analysis=ready]", timeout=180_000)


def seek(page: Any, frame: int) -> None:
    page.evaluate(f"review.seek({frame})")
    page.wait_for_function(f"review.state.frame === {frame} && !document.getElementById('player').seeking "
                           "&& document.getElementById('player').readyState >= 2")
    # The page redraws on its next animation frame after the seek: let two go by.
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def plan_of(page: Any) -> dict[str, Any]:
    return page.evaluate("review.state.plan")


def frames_and_size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        n = sum(1 for _ in c.decode(v))
        return n, v.codec_context.width, v.codec_context.height


# --- the planning behind it ------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ["9:16", "4:5"])
def test_the_editors_plan_is_the_cores_plan_of_the_whole_clip(engine_maps: Any, ratio: str) -> None:
    """The editor plans shot by shot (so an edit re-plans one shot, and a shot may keep a mode of its own): put
    end to end, that is exactly one plan_path call over the whole clip."""
    from salcrop_filter import _core
    from salcrop_filter.review.analysis import Analysis
    from salcrop_filter.review.planning import Edits, Planner

    maps, cuts, width, height, fps = engine_maps
    a = Analysis(width, height, fps, np.arange(len(maps)) / fps, maps, cuts)
    planner = Planner(a)
    keys = ((50, 300.0, 360.0), (450, 1000.0, 360.0))
    whole = _core.plan_path(maps, cuts, width, height, fps, ratio=ratio, keyframes=list(keys), with_segments=True)
    for _ in range(2):  # planned, then from the memo
        plan = planner.plan(ratio, Edits(keys))
        assert np.array_equal(plan.windows, whole[0])
        assert plan.shots == [tuple(x) for x in whole[1]] and plan.segments == [tuple(x) for x in whole[2]]
    assert plan.planned_shots == 0, "nothing changed: nothing re-planned"
    # A mode forced on the second shot: that shot is the core's forced plan of it, the others do not move.
    forced = planner.plan(ratio, Edits(keys, ((1, "stationary"),)))
    assert forced.planned_shots == 1
    a2, b2 = a.shot_ranges()[1]
    alone, shots = _core.plan_path(maps[a2:b2], [], width, height, fps, ratio=ratio, mode="stationary")
    assert np.array_equal(forced.windows[a2:b2], alone) and forced.shots[1] == (a2, b2, "stationary")
    assert np.array_equal(forced.windows[:a2], whole[0][:a2]) and np.array_equal(forced.windows[b2:], whole[0][b2:])


# --- the page, driven as a person drives it ------------------------------------------------------


# The server comes last among the fixtures, so the page opens while the first analysis is still running.
def test_drag_a_keyframe_replan_export_switch_ratio_and_render(browser: Any, engine_maps: Any, workdir: Path,
                                                                shared_videos: Path, env: dict[str, str],
                                                                server: Server) -> None:
    from salcrop_filter import _core

    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Every progress line the page shows, as it shows them.
    page.add_init_script("""window.__progress = [];
        new MutationObserver(() => {
          const t = document.getElementById('analysis-text');
          if (t && !document.getElementById('analysis').hidden) window.__progress.push(t.textContent);
        }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});""")
    page.goto(server.url)
    # While the analysis runs the page is usable: the video loads and seeks, and the progress is shown.
    page.wait_for_function("document.getElementById('player').readyState >= 2")
    page.evaluate("review.seek(30)")
    page.wait_for_function("!document.getElementById('player').seeking && review.state.frame === 30")
    wait_ready(page)
    shown = page.evaluate("window.__progress")
    assert any(re.search(r"\d+ / 720 frames, [\d.]+ frames/s, ETA \d+:\d\d", t) for t in shown), shown
    before = plan_of(page)
    assert before["ratio"] == "9:16" and before["axis"] == "x" and before["keyframes"] == []
    assert len(before["x"]) == 720 and before["window"] == [406, 720]

    # Drag the window 160 screen pixels to the right at a known moment.
    seek(page, PIN_FRAME)
    box = page.evaluate("review.player.windowRectOnPage()")
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(cx + 20 * k, cy)
    page.mouse.up()
    page.wait_for_selector(f"#keyframes li[data-frame='{PIN_FRAME}']", timeout=30_000)
    page.wait_for_function("document.body.dataset.planVersion === '1' && !document.body.dataset.busy")
    after = plan_of(page)
    [key] = after["keyframes"]
    assert key["frame"] == PIN_FRAME
    scale = box["width"] / 406
    moved = key["x"] - (before["x"][PIN_FRAME] + 203)
    assert abs(moved - 160 / scale) <= 2 / scale + 1, "the keyframe is where the window was dropped"
    # The re-planned path passes through it.
    assert abs(after["x"][PIN_FRAME] + after["w"][PIN_FRAME] / 2 - key["x"]) <= 1
    assert after["x"][PIN_FRAME] != before["x"][PIN_FRAME]

    # docs/review.md's picture: the page just after the edit, with the saliency shown. A test run does not rewrite a
    # tracked file (the tree stays clean); SALCROP_UPDATE_DOCS_PICTURE=1 writes it when the page has changed.
    page.check("#heatmap")
    seek(page, PIN_FRAME)
    update_docs = os.environ.get("SALCROP_UPDATE_DOCS_PICTURE") == "1"
    picture = REPO / "docs" / "review.png" if update_docs else workdir / "review.png"
    page.screenshot(path=str(picture))
    assert picture.stat().st_size > 10_000, "the editor's page was captured"
    page.uncheck("#heatmap")

    # The exported path is the core's plan with that keyframe, over the engine's maps.
    status, exported = server.request("GET", "api/videos/0/path.json?ratio=9:16")
    assert status == 200
    path = CropPath.from_dict(exported)
    maps, cuts, width, height, fps = engine_maps
    windows, shots, segments = _core.plan_path(maps, cuts, width, height, fps, ratio="9:16",
                                               keyframes=[(PIN_FRAME, key["x"], key["y"])], with_segments=True)
    assert np.array_equal(np.array([[f.x, f.y, f.w, f.h] for f in path.frames]), windows)
    assert [(s.start, s.end, s.mode) for s in path.shots] == [tuple(s) for s in shots]
    assert [(g.start, g.end, g.mode) for s in path.shots for g in s.segments] == [tuple(s) for s in segments]
    status, keys = server.request("GET", "api/videos/0/keyframes.json?ratio=9:16")
    assert status == 200 and keys == [{"frame": PIN_FRAME, "x": key["x"], "y": key["y"]}]

    # Export writes both files beside the output, under the names the README gives.
    page.click("#export")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('wrote')")
    out = workdir / "out"
    assert CropPath.load(out / "testvideo_9x16.path.json").to_dict() == path.to_dict()
    assert json.loads((out / "testvideo_9x16.keyframes.json").read_text()) == keys

    # Another ratio: its own path and its own (empty) edits.
    page.click("#ratios button[data-ratio='1:1']")
    page.wait_for_function("document.body.dataset.ratio === '1:1'")
    square = plan_of(page)
    assert square["window"] == [720, 720] and square["keyframes"] == []
    assert page.locator("#keyframes li").count() == 0
    page.click("#ratios button[data-ratio='9:16']")
    page.wait_for_function("document.body.dataset.ratio === '9:16'")
    assert plan_of(page)["keyframes"] == after["keyframes"]

    # Undo takes the keyframe away, redo brings it back (each a saved, re-planned version).
    page.click("#undo")
    page.wait_for_function("document.body.dataset.planVersion === '2' && !document.body.dataset.busy")
    assert plan_of(page)["keyframes"] == [] and plan_of(page)["x"] == before["x"]
    page.click("#redo")
    page.wait_for_function("document.body.dataset.planVersion === '3' && !document.body.dataset.busy")
    assert plan_of(page)["x"] == after["x"]

    # Render every ratio: the progress bar runs, the files appear whole, nothing temporary is left.
    page.click("#render-all")
    page.wait_for_function("document.body.dataset.render === 'done' || document.body.dataset.render === 'failed'",
                           timeout=300_000)
    assert page.evaluate("document.body.dataset.render") == "done", page.inner_text("#render-text")
    assert frames_and_size(out / "testvideo_9x16.mp4") == (720, 406, 720)
    assert frames_and_size(out / "testvideo_1x1.mp4") == (720, 720, 720)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "no temporary file is left"

    # The render is what `salcrop --keyframes` makes of the exported keyframes.
    cli_path = workdir / "cli.json"
    r = subprocess.run([sys.executable, "-m", "salcrop_filter", shared_videos / CLIP, "-o", workdir / "cli.mp4",
                        "--ratio", "9:16", "--keyframes", out / "testvideo_9x16.keyframes.json", "--path", cli_path,
                        "-q"], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert CropPath.load(cli_path).to_dict()["frames"] == path.to_dict()["frames"]
    assert frames_and_size(workdir / "cli.mp4") == frames_and_size(out / "testvideo_9x16.mp4")
    # Same windows cut from the same frames, same encoder: the pictures match (a window 2 px off would not).
    with av.open(str(workdir / "cli.mp4")) as a, av.open(str(out / "testvideo_9x16.mp4")) as b:
        worst = max(float(np.abs(fa.to_ndarray(format="gray").astype(int) - fb.to_ndarray(format="gray")).mean())
                    for fa, fb in zip(a.decode(video=0), b.decode(video=0)))
    assert worst < 0.5, worst
    assert errors == [], errors
    page.close()


def test_a_shot_mode_forced_from_the_page_is_the_cores_plan_for_that_shot(server: Server, browser: Any,
                                                                           engine_maps: Any) -> None:
    from salcrop_filter import _core

    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(server.url)
    wait_ready(page)
    page.click("#ratios button[data-ratio='1:1']")
    page.wait_for_function("document.body.dataset.ratio === '1:1' && review.state.plan.ratio === '1:1'")
    version = int(page.evaluate("document.body.dataset.planVersion"))
    seek(page, 500)  # the third shot
    page.click("#modes button[data-mode='stationary']")
    page.wait_for_function(f"document.body.dataset.planVersion === '{version + 1}' && !document.body.dataset.busy")
    plan = plan_of(page)
    shot = plan["shots"][2]
    assert shot["forced"] == "stationary" and shot["mode"] == "stationary"
    maps, _, width, height, fps = engine_maps
    a, b = shot["start"], shot["end"]
    windows, _ = _core.plan_path(maps[a:b], [], width, height, fps, ratio="1:1", mode="stationary")
    assert plan["x"][a:b] == windows[:, 0].tolist()
    assert len(set(plan["x"][a:b])) == 1, "a stationary shot does not move"
    page.click("#modes button[data-mode='auto']")
    page.wait_for_function(f"document.body.dataset.planVersion === '{version + 2}' && !document.body.dataset.busy")
    assert plan_of(page)["shots"][2]["forced"] is None
    page.close()


def test_keyframes_move_delete_and_load_from_a_file(server: Server, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(server.url)
    wait_ready(page)
    page.click("#ratios button[data-ratio='1:1']")
    page.wait_for_function("document.body.dataset.ratio === '1:1' && review.state.plan.ratio === '1:1'")

    def saved(version: int) -> None:
        page.wait_for_function(f"document.body.dataset.planVersion === '{version}' && !document.body.dataset.busy")

    version = int(page.evaluate("document.body.dataset.planVersion"))
    # A keyframes file with a syntax error: the page says what the core says, and nothing changes.
    bad = tmp_path / "bad.json"
    bad.write_text('[{"t": 1.0, "x": 300, "y": 360},')
    page.set_input_files("#import-keyframes", str(bad))
    page.wait_for_selector("#message.error")
    assert "bad.json: keyframes:" in page.inner_text("#message")
    assert int(page.evaluate("document.body.dataset.planVersion")) == version
    # A good one (by time, as salcrop --keyframes reads it) replaces the ratio's keyframes.
    good = tmp_path / "good.json"
    good.write_text('[{"t": 2.0, "x": 300, "y": 360}, {"frame": 600, "x": 1000, "y": 360}]')
    page.set_input_files("#import-keyframes", str(good))
    saved(version + 1)
    assert [k["frame"] for k in plan_of(page)["keyframes"]] == [60, 600]  # 2 s at 29.97 fps -> frame 60

    # Drag the first keyframe's diamond along the timeline: it moves to a later frame, keeping its place.
    spot = page.evaluate("""(() => {
        const t = review.timeline, b = t.plotBox(), r = t.canvas.getBoundingClientRect(), k = r.width / t.canvas.width;
        const at = (f) => r.left + t.fx(f, b) * k;
        return {x: at(60), y: r.top + t.py(300, b) * k, to: at(120)};
    })()""")
    page.mouse.move(spot["x"], spot["y"])
    page.mouse.down()
    page.mouse.move((spot["x"] + spot["to"]) / 2, spot["y"])
    page.mouse.move(spot["to"], spot["y"])
    page.mouse.up()
    saved(version + 2)
    keys = plan_of(page)["keyframes"]
    assert [k["frame"] for k in keys] == [120, 600] and keys[0]["x"] == 300
    # Double-click deletes it; the list's button deletes the other.
    page.mouse.dblclick(spot["to"], spot["y"])
    saved(version + 3)
    assert [k["frame"] for k in plan_of(page)["keyframes"]] == [600]
    page.click("#keyframes li[data-frame='600'] button")
    saved(version + 4)
    assert plan_of(page)["keyframes"] == []
    page.close()


def test_a_video_the_browser_cannot_play_is_shown_through_a_proxy(shared_videos: Path, browser: Any,
                                                                  tmp_path: Path) -> None:
    env = {**os.environ, "SALCROP_CACHE": str(tmp_path / "cache")}
    s = Server([shared_videos / "Megamind.avi", "--ratio", "1:1"], env)  # MPEG-4 Part 2 in AVI
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(s.url)
        wait_ready(page)
        page.wait_for_function("document.getElementById('player').readyState >= 2")
        assert page.evaluate("document.getElementById('player').videoWidth") == 640
        assert "does not play in a browser" in page.inner_text("#message")
        seek(page, 200)
        # The result is drawn from the proxy's frame: not black.
        lit = page.evaluate("""(() => { const c = document.getElementById('result');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let sum = 0; for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
            return sum / (d.length / 4) / 3; })()""")
        assert lit > 10
        page.close()
    finally:
        assert "Traceback" not in s.stop()
    assert len(list((tmp_path / "cache" / "review").glob("*.proxy.mp4"))) == 1


# --- safety and bad input ----------------------------------------------------------------------------


def test_every_request_needs_the_token(server: Server) -> None:
    for path in ("", "s/", f"s/{server.token[:-1]}/api/session", "api/session", "media/0",
                 f"s/{server.token}x/api/session", "static/app.js"):
        status, body = server.request("GET", path, root=server.root)
        assert status == 403, path
        assert "token" in body["error"]
    status, _ = server.request("PUT", "api/videos/0/edits?ratio=9:16", "{}", root=server.root)
    assert status == 403
    # A page elsewhere whose name resolves to this machine (DNS rebinding) is refused even with the token.
    req = urllib.request.Request(server.url + "api/session", headers={"Host": f"attacker.example:{server.port}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code == 400
    assert server.request("GET", "api/session")[0] == 200


def test_no_request_path_reaches_the_file_system(server: Server) -> None:
    for path in ("static/..%2f..%2fsession.py", "static/%2e%2e/server.py", "static/server.py", "media/1",
                 "media/-1", "media/..%2f..%2fetc%2fpasswd", "api/videos/7/plan?ratio=9:16"):
        status, body = server.request("GET", path)
        assert status == 404, (path, status)
        assert "Traceback" not in json.dumps(body)


def test_bad_edits_get_a_clear_4xx_and_change_nothing(server: Server, browser: Any) -> None:
    page = browser.new_page()
    page.goto(server.url)
    wait_ready(page)
    page.close()
    _, plan = server.request("GET", "api/videos/0/plan?ratio=9:16")
    version = plan["version"]
    cases = [
        ("PUT", "api/videos/0/edits?ratio=9:16", {"version": version, "keyframes": [{"frame": 5000, "x": 9, "y": 9}]},
         400, "frame 5000"),
        ("PUT", "api/videos/0/edits?ratio=9:16", {"version": version, "keyframes": [{"frame": 3, "x": -40, "y": 9}]},
         400, "outside"),
        ("PUT", "api/videos/0/edits?ratio=9:16", {"version": version, "modes": {"9": "pan"}}, 400, "shot 9"),
        ("PUT", "api/videos/0/edits?ratio=9:16", {"version": version, "modes": {"0": "zoom"}}, 400, "zoom"),
        ("PUT", "api/videos/0/edits?ratio=9:16", '{"version": 1, "keyframes": [{"frame": 3,', 400, "not valid JSON"),
        ("PUT", "api/videos/0/edits?ratio=3:2", {"version": version}, 400, "3:2"),
        ("PUT", "api/videos/0/edits?ratio=banana", {"version": version}, 400, "banana"),
        ("PUT", "api/videos/0/edits?ratio=9:16", {"keyframes": []}, 400, "version"),
        ("POST", f"api/videos/0/keyframes?ratio=9:16&version={version}", '[{"t": 1.0, "x": 5', 400, "keyframes"),
        ("POST", f"api/videos/0/keyframes?ratio=9:16&version={version}", '[{"t": 999.0, "x": 5, "y": 5}]', 400,
         "frame"),
        ("POST", "api/videos/0/render", {"ratios": ["9:16", "9/16"]}, 400, "twice"),
        ("POST", "api/videos/0/render", {"ratios": ["2:1"]}, 400, "2:1"),
        ("GET", "api/videos/0/plan", None, 400, "ratio"),
    ]
    for method, path, body, status, words in cases:
        raw = body if body is None or isinstance(body, str) else json.dumps(body)
        got, answer = server.request(method, path, raw)
        assert got == status, (path, body, got, answer)
        assert words in answer["error"], (path, answer)
        assert "Traceback" not in answer["error"]
    _, now = server.request("GET", "api/videos/0/plan?ratio=9:16")
    assert now["version"] == version and now["keyframes"] == plan["keyframes"], "nothing was saved"


def test_two_tabs_do_not_overwrite_each_other(server: Server) -> None:
    assert wait_analysed(server)["state"] == "ready"
    _, plan = server.request("GET", "api/videos/0/plan?ratio=1:1")
    base = plan["version"]
    first = {"version": base, "keyframes": [{"frame": 10, "x": 400.0, "y": 360.0}], "modes": {}}
    second = {"version": base, "keyframes": [{"frame": 20, "x": 900.0, "y": 360.0}], "modes": {}}
    status, saved = server.request("PUT", "api/videos/0/edits?ratio=1:1", json.dumps(first))
    assert status == 200 and saved["version"] == base + 1
    status, refused = server.request("PUT", "api/videos/0/edits?ratio=1:1", json.dumps(second))
    assert status == 409 and refused["stale"] and refused["version"] == base + 1
    assert "another tab" in refused["error"]
    _, now = server.request("GET", "api/videos/0/plan?ratio=1:1")
    assert now["keyframes"] == first["keyframes"], "the first tab's edit stands"
    # The second tab reloads, then its change goes through on top.
    second["version"] = now["version"]
    status, _ = server.request("PUT", "api/videos/0/edits?ratio=1:1", json.dumps(second))
    assert status == 200
    server.request("PUT", "api/videos/0/edits?ratio=1:1", json.dumps({"version": now["version"] + 1}))


def test_a_second_server_resumes_the_saved_edits_from_the_cache(server: Server, shared_videos: Path,
                                                                 workdir: Path, env: dict[str, str]) -> None:
    assert wait_analysed(server)["state"] == "ready"
    _, plan = server.request("GET", "api/videos/0/plan?ratio=9:16")
    edit = {"version": plan["version"], "keyframes": [{"frame": 100, "x": 500.0, "y": 360.0}], "modes": {"1": "pan"}}
    status, first = server.request("PUT", "api/videos/0/edits?ratio=9:16", json.dumps(edit))
    assert status == 200
    other = Server([shared_videos / CLIP, "--ratio", "9:16,1:1", "-o", workdir / "out"], env)
    try:
        info = wait_analysed(other)
        assert info["state"] == "ready" and info["progress"]["cached"], "the network does not run again"
        _, again = other.request("GET", "api/videos/0/plan?ratio=9:16")
        assert again["keyframes"] == edit["keyframes"] and again["modes"] == edit["modes"]
        assert again["version"] == first["version"] and again["x"] == first["x"]
        # Both servers edit the same video: the saved version decides, whichever process saved it.
        body = {"version": first["version"], "keyframes": [], "modes": {}}
        assert server.request("PUT", "api/videos/0/edits?ratio=9:16", json.dumps(body))[0] == 200
        status, refused = other.request("PUT", "api/videos/0/edits?ratio=9:16", json.dumps(body))
        assert status == 409 and refused["stale"]
    finally:
        assert "Traceback" not in other.stop()


def test_one_output_is_rendered_once_at_a_time(server: Server, workdir: Path) -> None:
    assert wait_analysed(server)["state"] == "ready"
    status, job = server.request("POST", "api/videos/0/render", json.dumps({"ratios": ["1:1"]}))
    assert status == 202
    status, second = server.request("POST", "api/videos/0/render", json.dumps({"ratios": ["9:16", "1:1"]}))
    assert status == 409 and "testvideo_1x1.mp4 is being rendered already" in second["error"]
    while job["state"] in ("queued", "running"):
        time.sleep(0.2)
        _, job = server.request("GET", f"api/renders/{job['id']}")
    assert job["state"] == "done" and job["outputs"] == [str(workdir / "out" / "testvideo_1x1.mp4")]
    assert not [p.name for p in (workdir / "out").iterdir() if p.name.startswith(".")]
    assert server.request("GET", "api/renders/999")[0] == 404


@pytest.mark.parametrize("ratio,words", [("9:16,abc", "abc"), ("9:16,9/16", "twice"), ("9:16,,1:1", "empty"),
                                         ("0:1", "ratio")])
def test_bad_ratio_lists_are_usage_errors(shared_videos: Path, tmp_path: Path, ratio: str, words: str) -> None:
    env = {**os.environ, "SALCROP_CACHE": str(tmp_path / "cache")}
    r = review(shared_videos / "bikes.mp4", "--ratio", ratio, "--no-browser", "-o", tmp_path / "out", env=env)
    assert r.returncode == 2, r.stderr
    assert "salcrop review: error:" in r.stderr and words in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == "", "no URL: no server was started"
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists(), "nothing is written"


def test_a_file_that_is_not_a_video_is_refused_before_anything_starts(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are not moving pictures\n")
    env = {**os.environ, "SALCROP_CACHE": str(tmp_path / "cache")}
    r = review(fake, "--no-browser", env=env)
    assert r.returncode == 2 and "notes.mp4" in r.stderr and "not a readable video" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    r = review(tmp_path / "missing.mp4", "--no-browser", env=env)
    assert r.returncode == 2 and "no such file" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]


def test_a_picked_subject_is_tracked_kept_redone_exported_and_deleted(server: Server) -> None:
    """The editor's backend for picks (docs/subjects.md): POST a box on a frame, the core tracks it through its shot,
    the plan keeps it; picked again at another frame it is redone from there; deleted by an edit without it."""
    assert wait_analysed(server)["state"] == "ready"
    _, plan = server.request("GET", "api/videos/0/plan?ratio=9:16")
    # The tree trunk at the left of the second shot (frames 201..381), while the deer's head draws the saliency.
    pick = {"version": plan["version"], "frame": 300, "box": [400, 40, 100, 300]}
    status, plan = server.request("POST", "api/videos/0/subjects?ratio=9:16", json.dumps(pick))
    assert status == 200, plan
    [track] = plan["subjects"]
    assert track["frame"] == 300 and track["first"] == 201 and track["first"] + len(track["points"]) == 382
    kept = [(f, p) for f, p in zip(range(201, 382), track["points"]) if not p[4]]
    assert len(kept) >= 0.75 * 181  # lost on the shot's first frames (it opens with a dissolve)
    inside = [plan["x"][f] <= p[0] + 0.5 and p[0] + p[2] <= plan["x"][f] + plan["w"][f] + 0.5 for f, p in kept]
    assert np.mean(inside) >= 0.95
    # Redone from frame 350 with a box 20 px to the right: the points before 350 stay, the rest follow the new box.
    redo = {"version": plan["version"], "frame": 350, "box": [420, 40, 100, 300], "id": track["id"]}
    status, plan = server.request("POST", "api/videos/0/subjects?ratio=9:16", json.dumps(redo))
    assert status == 200, plan
    [again] = plan["subjects"]
    assert again["points"][:149] == track["points"][:149] and again["points"][149][:4] == [420, 40, 100, 300]
    # Keyframe edits from a page that knows nothing of subjects keep them; the export is the picks.
    body = {"version": plan["version"], "keyframes": [{"frame": 10, "x": 640.0, "y": 360.0}], "modes": {}}
    status, plan = server.request("PUT", "api/videos/0/edits?ratio=9:16", json.dumps(body))
    assert status == 200 and len(plan["subjects"]) == 1
    status, text = server.request("GET", "api/videos/0/subjects.json?ratio=9:16")
    assert status == 200 and text == [{"frame": 350, "box": [420, 40, 100, 300]}]
    # A bad pick is refused with a reason and changes nothing.
    bad = {"version": plan["version"], "frame": 300, "box": [1250, 40, 100, 300]}
    status, err = server.request("POST", "api/videos/0/subjects?ratio=9:16", json.dumps(bad))
    assert status == 400 and "inside" in err["error"]
    # Deleted: an edit without it.
    body = {"version": plan["version"], "keyframes": [], "modes": {}, "subjects": []}
    status, plan = server.request("PUT", "api/videos/0/edits?ratio=9:16", json.dumps(body))
    assert status == 200 and "subjects" not in plan


def test_pick_a_subject_on_the_page_fix_a_drift_undo_delete_and_render(server: Server, browser: Any,
                                                                        workdir: Path) -> None:
    """Issue 26 in the editor: drag a box on the video in pick mode -> tracked through its shot, drawn, kept by the
    re-planned path; picked again at a later frame -> redone from there; undo/redo; delete; the render carries it."""
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    wait_ready(page)

    def drag_box(x0: float, y0: float, x1: float, y1: float) -> None:
        r = page.evaluate("(() => { const r = document.getElementById('overlay').getBoundingClientRect();"
                          " return {x: r.left, y: r.top, s: r.width / review.state.width}; })()")
        page.mouse.move(r["x"] + x0 * r["s"], r["y"] + y0 * r["s"])
        page.mouse.down()
        for k in range(1, 6):
            page.mouse.move(r["x"] + (x0 + (x1 - x0) * k / 5) * r["s"], r["y"] + (y0 + (y1 - y0) * k / 5) * r["s"])
        page.mouse.up()

    def wait_replanned(version: int) -> dict[str, Any]:
        page.wait_for_function(f"Number(document.body.dataset.planVersion) > {version} && !document.body.dataset.busy",
                               timeout=60_000)
        return plan_of(page)

    seek(page, PIN_FRAME)
    page.click("#pick-subject")
    start = plan_of(page)
    t0 = time.perf_counter()
    drag_box(400, 40, 500, 340)  # the tree trunk at the left of the second shot (the deer draws the saliency)
    plan = wait_replanned(start["version"])
    picked_in = time.perf_counter() - t0
    [track] = plan["subjects"]
    assert track["frame"] == PIN_FRAME and track["first"] == 201 and len(track["points"]) == 181
    assert page.locator("#subjects li").count() == 1
    assert page.evaluate(f"review.state.subjectsAt({PIN_FRAME}).length") == 1  # drawn on the video
    seen = [(201 + k, p) for k, p in enumerate(track["points"]) if not p[4]]
    inside = [plan["x"][f] <= p[0] + 0.5 and p[0] + p[2] <= plan["x"][f] + plan["w"][f] + 0.5 for f, p in seen]
    assert np.mean(inside) >= 0.95
    assert all(plan["x"][f] == start["x"][f] for f in range(0, 201)), "the other shots keep their plans"

    # A drift fixed: the subject is selected; a box drawn at frame 350 redoes it from there.
    seek(page, 350)
    drag_box(420, 40, 520, 340)
    fixed = wait_replanned(plan["version"])
    [again] = fixed["subjects"]
    assert again["id"] == track["id"] and again["points"][:149] == track["points"][:149]
    assert [round(v) for v in again["points"][149][:4]] == [420, 40, 100, 300]

    # Undo brings the first track back, redo the fixed one; the ✕ deletes it, undo restores it.
    page.click("#undo")
    assert wait_replanned(fixed["version"])["subjects"][0]["points"] == track["points"]
    page.click("#redo")
    redone = wait_replanned(fixed["version"] + 1)
    assert redone["subjects"][0]["points"] == again["points"]
    page.click("#subjects li button")
    gone = wait_replanned(redone["version"])
    assert "subjects" not in gone and page.locator("#subjects li").count() == 0
    page.click("#undo")
    back = wait_replanned(gone["version"])
    assert back["subjects"][0]["points"] == again["points"] and back["x"] == redone["x"]

    # The render carries it: the rendered path is the page's plan, subject boxes included.
    page.click("#render")
    page.wait_for_function("document.body.dataset.render === 'done' || document.body.dataset.render === 'failed'",
                           timeout=300_000)
    assert page.evaluate("document.body.dataset.render") == "done", page.inner_text("#render-text")
    out = workdir / "out"
    assert frames_and_size(out / "testvideo_9x16.mp4") == (720, 406, 720)
    status, exported = server.request("GET", "api/videos/0/path.json?ratio=9:16")
    assert status == 200
    path = CropPath.from_dict(exported)
    assert [f.x for f in path.frames] == back["x"]
    assert path.with_subjects and path.shots[1].subjects == [track["id"]]
    print(f"pick to tracked and re-planned: {picked_in:.2f} s for a {181 / 29.97:.1f} s shot")
    # Leave the ratio's edits empty for the other tests.
    server.request("PUT", "api/videos/0/edits?ratio=9:16",
                   json.dumps({"version": back["version"], "keyframes": [], "modes": {}, "subjects": []}))
    assert errors == [], errors
    page.close()


# --- people: face tracks, who speaks, pin / ignore / keep (issue 25 item 5) -------------------------------------

MSDWILD = "speakers/msdwild-00115/00115.mp4"  # 20 s, 1280x720, 25 fps, two women talking, with sound


def synthetic_people() -> tuple[Any, list[tuple[int, float]]]:
    """An analysis as the engine gives one with speakers=auto, made up: flat saliency with a bump in the middle,
    one shot of 200 frames, two faces (left, right) on screen throughout, the left one speaking on frames 0..99 and
    the right one on 100..199 (scores the policy reads as they are)."""
    from salcrop_filter.review.analysis import Analysis

    n, fps = 200, 25.0
    maps = np.full((n, 36, 64), 0.1, np.float32)
    maps[:, 10:26, 28:36] = 1.0  # the middle draws the saliency
    rows = []
    for f in range(n):
        rows.append((f, 0, 80, 300, 120, 150, 0.9 if f < 100 else 0.05))  # left
        rows.append((f, 1, 1080, 300, 120, 150, 0.05 if f < 100 else 0.9))  # right
    a = Analysis(1280, 720, fps, np.arange(n) / fps, maps, [], faces=np.array(rows, dtype=np.float64))
    return a, [(0, 140.0), (1, 1140.0)]


def test_the_planner_follows_who_speaks_and_the_persons_pins_and_ignores() -> None:
    """The editor's planning with faces (no browser, no ../shared): who speaks is followed; a pinned face is followed
    whenever on screen, an ignored one never; the path JSON says who was followed and the shot's face tracks."""
    from salcrop_filter.review.planning import EditError, Edits, Planner

    a, centres = synthetic_people()
    planner = Planner(a)
    auto = planner.plan("9:16")
    assert auto.speaker is not None and set(auto.speaker[20:90].tolist()) == {0}
    assert set(auto.speaker[150:].tolist()) == {1}  # the floor changed hands

    def inside(plan: Any, face: int) -> float:
        cx = centres[face][1]
        return float(np.mean((plan.windows[:, 0] <= cx - 60) & (cx + 60 <= plan.windows[:, 0] + plan.windows[:, 2])))

    pinned = planner.plan("9:16", Edits.checked([], [], a, pinned=[1]))
    assert set(pinned.speaker.tolist()) == {1} and inside(pinned, 1) >= 0.95
    ignored = planner.plan("9:16", Edits.checked([], [], a, ignored=[0]))
    assert 0 not in set(ignored.speaker.tolist()) and inside(ignored, 0) < 0.05
    assert inside(auto, 0) > 0.3  # the ignore changed something
    path = pinned.crop_path(a)
    assert {f.speaker for f in path.frames} == {1}
    assert [t["id"] for t in path.shots[0].tracks] == [0, 1]
    # Bad pins are refused with the reason.
    with pytest.raises(EditError, match="both pinned and ignored"):
        Edits.checked([], [], a, pinned=[1], ignored=[1])
    with pytest.raises(EditError, match="no face track 7"):
        Edits.from_dict({"keyframes": [], "modes": {}, "pinned": [7]}, a)
    # Edits round-trip through their JSON (the session's saved form).
    e = Edits.checked([], [], a, pinned=[1], ignored=[0])
    assert Edits.from_dict(e.to_dict(), a) == e


def test_keep_a_face_turns_it_into_a_picked_subject() -> None:
    from salcrop_filter.review.planning import Edits, Planner, face_tracks, subject_of_face

    a, _ = synthetic_people()
    [left, _] = face_tracks(a)
    subject = subject_of_face(left, 50, 0, (0, a.frames))
    assert subject.first == 0 and len(subject.points) == a.frames and subject.box == (80, 300, 120, 150)
    assert type(subject.frame) is int and subject.frame == 50
    plan = Planner(a).plan("9:16", Edits.checked([], [], a, [subject]))
    assert np.all(plan.windows[:, 0] <= 80) and np.all(200 <= plan.windows[:, 0] + plan.windows[:, 2])


def test_review_speakers_option_is_checked(tmp_path: Path) -> None:
    r = review(tmp_path / "none.mp4", "--speakers", "sometimes")
    assert r.returncode == 2 and "--speakers" in r.stderr


@pytest.fixture(scope="module")
def people_server(shared_data: Path, workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    s = Server([shared_data / MSDWILD, "--speakers", "auto", "--ratio", "9:16", "-o", workdir / "people"], env)
    yield s
    err = s.stop()
    assert "Traceback" not in err, err


def box_inside(plan: dict[str, Any], f: int, box: list[float]) -> bool:
    return plan["x"][f] <= box[0] + 0.5 and box[0] + box[2] <= plan["x"][f] + plan["w"][f] + 0.5


def test_face_lanes_pin_ignore_keep_undo_and_render(people_server: Server, browser: Any, workdir: Path,
                                                    shared_data: Path, env: dict[str, str]) -> None:
    """Issue 25 item 5 on a real two-person conversation with sound: the page shows the face tracks (a lane each,
    their boxes and ids); a click on a face's box or lane selects that person; pin -> the re-planned path follows
    them wherever on screen; ignore -> never; undo/redo; keep -> a picked subject; the render carries the plan."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(people_server.url)
    wait_ready(page)
    faces = page.evaluate("review.state.faces")
    long = [t for t in faces if sum(p is not None for p in t["points"]) >= 400]
    assert len(long) == 2, [(t["id"], t["first"], len(t["points"])) for t in faces]
    assert page.is_visible("#people-panel") and page.locator("#faces li").count() == len(faces)
    start = plan_of(page)
    assert len(start["speaker"]) == 500

    def wait_replanned(version: int) -> dict[str, Any]:
        try:
            page.wait_for_function(f"Number(document.body.dataset.planVersion) > {version} && "
                                   "!document.body.dataset.busy", timeout=60_000)
        except Exception:
            pytest.fail(f"not re-planned; the page says: {page.inner_text('#message')}")
        return plan_of(page)

    def seen(face: dict[str, Any]) -> list[tuple[int, list[float]]]:
        return [(face["first"] + k, p[:4]) for k, p in enumerate(face["points"]) if p is not None]

    # The face the automatic plan follows least: pin it by clicking its box on the video.
    counts = {t["id"]: start["speaker"].count(t["id"]) for t in long}
    quiet = min(long, key=lambda t: (counts[t["id"]], t["id"]))
    other = next(t for t in long if t["id"] != quiet["id"])
    frame, box = seen(quiet)[len(seen(quiet)) // 2]
    seek(page, frame)
    r = page.evaluate(f"review.player.faceRectOnPage({quiet['id']})")
    assert r is not None, "the face's box is drawn on the video"
    page.mouse.click(r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)
    assert page.evaluate("review.state.selectedFace") == quiet["id"]
    assert page.evaluate("review.state.plan.version") == start["version"], "a click on a face is not a keyframe"
    t0 = time.perf_counter()
    page.click("#face-pin")
    pinned = wait_replanned(start["version"])
    pin_ms = (time.perf_counter() - t0) * 1000
    assert pinned["pinned"] == [quiet["id"]]
    on = seen(quiet)
    assert np.mean([pinned["speaker"][f] == quiet["id"] for f, _ in on]) >= 0.95
    assert np.mean([box_inside(pinned, f, b) for f, b in on]) >= 0.9
    assert page.locator(f"#faces li.pinned[data-id='{quiet['id']}']").count() == 1

    # Undo: the automatic plan again; redo: the pin again.
    page.click("#undo")
    undone = wait_replanned(pinned["version"])
    assert "pinned" not in undone and undone["x"] == start["x"] and undone["speaker"] == start["speaker"]
    page.click("#redo")
    redone = wait_replanned(undone["version"])
    assert redone["pinned"] == [quiet["id"]] and redone["x"] == pinned["x"]

    # Click the other face's lane on the timeline, ignore it: never followed.
    frame2 = seen(other)[len(seen(other)) // 3][0]
    lane = page.evaluate(f"review.timeline.faceLanePoint({other['id']}, {frame2})")
    tl = page.locator("#timeline").bounding_box()
    page.mouse.click(tl["x"] + lane["x"], tl["y"] + lane["y"])
    page.wait_for_function(f"review.state.selectedFace === {other['id']}")
    page.click("#face-ignore")
    ignored = wait_replanned(redone["version"])
    assert ignored["ignored"] == [other["id"]] and ignored["pinned"] == [quiet["id"]]
    assert other["id"] not in ignored["speaker"]
    # The quiet face back to auto (its lane's panel button), the other still ignored: nobody follows it.
    page.evaluate(f"review.selectFace({quiet['id']})")
    page.click("#face-auto")
    only_ignored = wait_replanned(ignored["version"])
    assert "pinned" not in only_ignored and other["id"] not in only_ignored["speaker"]
    assert only_ignored["speaker"] != start["speaker"] or counts[other["id"]] == 0

    # Keep the other face: a picked subject made of its boxes, kept in the window (it outranks the ignore).
    seek(page, frame2)
    page.evaluate(f"review.selectFace({other['id']})")
    page.click("#face-keep")
    kept = wait_replanned(only_ignored["version"])
    [subject] = kept["subjects"]
    assert subject["first"] == other["first"]
    assert np.mean([box_inside(kept, f, b) for f, b in seen(other)]) >= 0.95

    # Saved with the session: the server's plan has the same edits; the render is the page's plan.
    _, saved = people_server.request("GET", "api/videos/0/plan?ratio=9:16")
    assert saved["ignored"] == [other["id"]] and len(saved["subjects"]) == 1 and saved["x"] == kept["x"]
    page.click("#undo")  # back to the ignore alone, then render that
    final = wait_replanned(kept["version"])
    assert "subjects" not in final
    page.click("#render")
    page.wait_for_function("document.body.dataset.render === 'done' || document.body.dataset.render === 'failed'",
                           timeout=300_000)
    assert page.evaluate("document.body.dataset.render") == "done", page.inner_text("#render-text")
    assert frames_and_size(workdir / "people" / "00115_9x16.mp4")[0] == 500
    status, exported = people_server.request("GET", "api/videos/0/path.json?ratio=9:16")
    assert status == 200
    path = CropPath.from_dict(exported)
    assert [f.x for f in path.frames] == final["x"]
    assert [-1 if f.speaker is None else f.speaker for f in path.frames] == final["speaker"]
    assert {t["id"] for t in path.shots[0].tracks} == {t["id"] for t in faces}
    print(f"pin click to re-planned path on the page: {pin_ms:.0f} ms (server: {pinned['planned_ms']} ms)")
    # A second editor on the same video (the cached analysis) resumes the edits, the ignore included.
    second = Server([shared_data / MSDWILD, "--speakers", "auto", "--ratio", "9:16", "-o", workdir / "people"], env)
    try:
        assert wait_analysed(second)["state"] == "ready"
        _, resumed = second.request("GET", "api/videos/0/plan?ratio=9:16")
        assert resumed["ignored"] == [other["id"]] and resumed["x"] == final["x"]
        assert resumed["speaker"] == final["speaker"]
    finally:
        assert "Traceback" not in second.stop()
    people_server.request("PUT", "api/videos/0/edits?ratio=9:16",
                          json.dumps({"version": final["version"], "keyframes": [], "modes": {}, "subjects": [],
                                      "pinned": [], "ignored": []}))
    assert errors == [], errors
    page.close()


def test_plan_path_with_faces_refuses_what_it_cannot_plan() -> None:
    """The core's API the editor's people use: bad face arrays, a pin that is also an ignore, faces with picked
    subjects or a mid-shot resume get a ValueError saying why (never a crash or a silently other path)."""
    from salcrop_filter import _core

    a, _ = synthetic_people()
    left = np.tile([80.0, 300, 120, 150, 0.9], (a.frames, 1))
    call = dict(ratio="9:16", with_states=True)
    w, shots, segs, states, who = _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left)], **call)
    assert len(who) == a.frames and set(who) == {0}
    with pytest.raises(ValueError, match="x 5 array"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left[:10])], **call)
    with pytest.raises(ValueError, match="given twice"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left), (0, left)], **call)
    with pytest.raises(ValueError, match="both pinned and ignored"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left)], pinned=[0], ignored=[0], **call)
    with pytest.raises(ValueError, match="do not mix"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left)],
                        subjects=[(0, np.zeros((5, 5)))], **call)
    with pytest.raises(ValueError, match="from a shot's start"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(0, left)], resume=states[1], **call)
    with pytest.raises(ValueError, match="with_states"):
        _core.plan_path(a.maps, [], a.width, a.height, a.fps, ratio="9:16", faces=[(0, left)])
    # Unseen frames (NaN) are not seen: a face only on the second half is followed only there.
    half = left.copy()
    half[:100, 0] = np.nan
    who = _core.plan_path(a.maps, [], a.width, a.height, a.fps, faces=[(3, half)], pinned=[3], **call)[4]
    assert set(who[:100]) == {-1} and set(who[100:]) == {3}


def test_the_editor_follows_the_sound_by_default_as_salcrop_does(shared_videos: Path) -> None:
    """Without --speakers the editor analyses a video with sound with faces and voices (so it plans what `salcrop`
    renders of it) and one without sound with saliency only; a --speakers given is kept."""
    from salcrop_filter.review.analysis import AnalysisOptions, with_sound_default

    assert with_sound_default(shared_videos / "chaplin.mp4", AnalysisOptions()).speakers == "auto"
    assert with_sound_default(shared_videos / "bikes.mp4", AnalysisOptions()).speakers is None
    off = AnalysisOptions(speakers="off")
    assert with_sound_default(shared_videos / "chaplin.mp4", off) == off
