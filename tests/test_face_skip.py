"""speakers=auto lets a scheduled face detection go while the faces keep still (csrc/src/face_worker.h, issue 25).

The rule, tested on its own through `_core.Engine.face_detections` ({'run': N, 'let_go': M}): a detection whose
faces all stayed within kStillShare (7.5%) of their size of the held boxes, as many as before, lets the next
scheduled detection go (one in a row at most); a detection after a frame that may start a shot always runs; the
threaded and the synchronous (SALCROP_FACES_SYNC=1) runs let the same ones go.

The synthetic clips need no ../shared: a drawn face (hair, skin, brows, eyes, nose, mouth) that the shipped YuNet
finds with a score of ~0.9, on a textured backdrop with sensor noise, 640x360 at 25 fps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salcrop_filter import _core

W, H, FPS = 640, 360, 25.0
FACE_EVERY = 5  # a detection every 0.2 s at most at 25 fps (faces.h kFaceSeconds)


def render_face(cx: float, cy: float, size: float, rng: np.random.Generator, backdrop: int = 0) -> np.ndarray:
    """An RGB frame with one drawn face `size` px tall centred at (cx, cy); backdrop picks one of two scenes."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.empty((H, W, 3), np.float32)
    if backdrop == 0:
        img[..., 0] = 60 + 20 * np.sin(xx / 37.0)
        img[..., 1] = 80 + 20 * np.sin(yy / 29.0)
        img[..., 2] = 100
    else:  # another room: light, with vertical stripes
        img[..., 0] = 190 + 30 * np.sign(np.sin(xx / 15.0))
        img[..., 1] = 200
        img[..., 2] = 150 + 20 * np.cos(yy / 23.0)
    s = size / 2

    def ellipse(x0: float, y0: float, rx: float, ry: float) -> np.ndarray:
        return ((xx - x0) / rx) ** 2 + ((yy - y0) / ry) ** 2 <= 1

    img[ellipse(cx, cy - 0.15 * s, 0.95 * s, 1.1 * s)] = (40, 28, 20)  # hair
    img[ellipse(cx, cy, 0.75 * s, 1.0 * s)] = (224, 172, 140)  # skin
    for side in (-1, 1):
        ex = cx + side * 0.33 * s
        img[ellipse(ex, cy - 0.42 * s, 0.2 * s, 0.05 * s)] = (60, 40, 30)  # brow
        img[ellipse(ex, cy - 0.22 * s, 0.16 * s, 0.08 * s)] = (245, 245, 245)  # the eye's white
        img[ellipse(ex, cy - 0.22 * s, 0.07 * s, 0.07 * s)] = (40, 30, 25)  # iris
    img[ellipse(cx, cy + 0.12 * s, 0.08 * s, 0.15 * s)] = (200, 140, 110)  # nose
    img[ellipse(cx, cy + 0.5 * s, 0.3 * s, 0.07 * s)] = (150, 50, 60)  # mouth
    img += rng.normal(0, 2, img.shape)  # the sensor: no two frames alike
    return np.clip(img, 0, 255).astype(np.uint8)


def still_clip(frames: int = 100) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [render_face(320, 180, 120, rng) for _ in range(frames)]


def moving_clip(frames: int = 100) -> list[np.ndarray]:
    """The same face, 4 px a frame to the right: 20 px (~17% of its ~120 px) between two detections."""
    rng = np.random.default_rng(3)
    return [render_face(120 + 4 * i, 180, 120, rng) for i in range(frames)]


def cut_clip(cuts: list[int], frames: int) -> list[np.ndarray]:
    """Hard cuts at `cuts` between two shots: the face left on the dark backdrop, then right on the light one."""
    rng = np.random.default_rng(5)
    out = []
    for i in range(frames):
        shot = sum(i >= c for c in cuts) % 2
        out.append(render_face(160, 180, 120, rng) if shot == 0 else render_face(470, 170, 110, rng, backdrop=1))
    return out


def run(frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch, synchronous: bool = False) -> "_core.Engine":
    """One speakers=auto run over the frames (no sound: the detections do not depend on it)."""
    if synchronous:
        monkeypatch.setenv("SALCROP_FACES_SYNC", "1")
    else:
        monkeypatch.delenv("SALCROP_FACES_SYNC", raising=False)
    eng = _core.Engine(W, H, FPS, speakers="auto")
    assert ("SALCROP_FACES_SYNC" in eng.describe()) == synchronous
    eng.audio_end()
    assert eng.face_detections == {"run": 0, "let_go": 0}
    for i, f in enumerate(frames):
        eng.push_rgb(f, i / FPS)
        eng.pop()
    eng.flush()
    return eng


def face_tracks(eng: "_core.Engine") -> list[dict]:
    return [t for s in json.loads(eng.path_json(0))["shots"] for t in s.get("tracks", [])]


def test_a_still_face_lets_every_other_detection_go(monkeypatch: pytest.MonkeyPatch) -> None:
    eng = run(still_clip(), monkeypatch)
    counts = eng.face_detections
    # The face is found (one track over the clip), and about half the scheduled detections ran: one let go after
    # each that found the face where it was (not the first two: nothing to compare the first with).
    assert len(face_tracks(eng)) == 1, face_tracks(eng)
    assert counts["let_go"] > 0 and counts["run"] - 2 <= counts["let_go"] <= counts["run"], counts


def empty_then_face_clip(empty: int, frames: int) -> list[np.ndarray]:
    """The dark room with nobody in it (a moving backdrop: the sampling clock keeps its stride), then the face walks
    in at frame `empty`."""
    room = render_face(-500, -500, 120, np.random.default_rng(7))
    face = render_face(320, 180, 120, np.random.default_rng(7))  # the same noise: only the face differs
    drawn = (face != room).any(axis=2)
    out = []
    for i in range(frames):
        f = np.roll(room, 2 * i, axis=1)
        if i >= empty:
            f[drawn] = face[drawn]
        out.append(f)
    return out


def test_nobody_on_screen_lets_four_of_five_detections_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no face found twice, the next four scheduled detections are let go (kEmptySkips: a face is looked for
    every 1 s, where a still face is looked at every 0.4 s); the face that comes in is still found, within a second.
    With the still rule alone no more could be let go than ran."""
    eng = run(empty_then_face_clip(150, 200), monkeypatch)
    counts = eng.face_detections
    assert counts["let_go"] > counts["run"], counts
    [track] = face_tracks(eng)
    assert 150 <= track["start"] <= 150 + FPS + 1, track
    synchronous = run(empty_then_face_clip(150, 200), monkeypatch, synchronous=True)
    assert synchronous.face_detections == counts


def test_a_moving_face_lets_none_go(monkeypatch: pytest.MonkeyPatch) -> None:
    eng = run(moving_clip(), monkeypatch)
    counts = eng.face_detections
    assert len(face_tracks(eng)) == 1, face_tracks(eng)
    assert counts["let_go"] == 0 and counts["run"] >= 100 // (2 * FACE_EVERY), counts


def test_the_first_detection_after_a_cut_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten hard cuts between two still shots (the face left in a dark room, right in a light one). Each shot is
    still, so detections are let go in it, yet the next shot's face is found at the first detection scheduled after
    the cut: its track starts at most a detection gap and one frame after the cut (0-6 frames here, where the
    sampling clock puts that detection). Had the first detection after the cut been let go as the old shot's still
    face asked (checked by hand, the worker ignoring must_detect), three of these cuts would find their face only a
    scheduled detection later: 7, 8 and 14 frames after the cut."""
    cuts = [40, 83, 127, 168, 211, 249, 292, 330, 372, 417]
    eng = run(cut_clip(cuts, 460), monkeypatch)
    assert eng.face_detections["let_go"] > len(cuts), eng.face_detections
    shots = json.loads(eng.path_json(0))["shots"]
    assert [s["start"] for s in shots] == [0, *cuts]
    late = {}
    for s in shots:
        starts = [t["start"] for t in s.get("tracks", [])]
        assert len(starts) == 1, (s["start"], s.get("tracks"))
        if starts[0] - s["start"] > FACE_EVERY + 1:
            late[s["start"]] = starts[0]
    assert not late, f"the faces of the shots starting at {sorted(late)} were found late: {late}"


def test_threaded_and_synchronous_runs_let_the_same_detections_go(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = still_clip(60) + cut_clip([0], 50)  # still, then a cut to the other room
    threaded = run(frames, monkeypatch)
    synchronous = run(frames, monkeypatch, synchronous=True)
    assert threaded.face_detections["let_go"] > 0
    assert threaded.face_detections == synchronous.face_detections
    assert threaded.path_json(0) == synchronous.path_json(0)


@pytest.mark.needs_shared
def test_a_real_conversation_lets_some_detections_go(shared_data: Path) -> None:
    """msdwild-00115 (20 s, two people talking at a table, 720p): some scheduled detections are let go, most run."""
    import av

    clip = shared_data / "speakers" / "msdwild-00115" / "00115.mp4"
    eng = None
    with av.open(str(clip)) as c:
        for i, f in enumerate(c.decode(video=0)):
            rgb = f.to_ndarray(format="rgb24")
            if eng is None:
                eng = _core.Engine(rgb.shape[1], rgb.shape[0], FPS, speakers="auto")
                eng.audio_end()
            eng.push_rgb(rgb, i / FPS)
            eng.pop()
    assert eng is not None
    eng.flush()
    counts = eng.face_detections
    print(counts)
    assert 0 < counts["let_go"] < counts["run"], counts
