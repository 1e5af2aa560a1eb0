"""Faces in the core (issue 25): the YuNet detector through ONNX Runtime, face tracks through the Engine, and the
path JSON / decision fields that say what the camera followed.

The detector runs on real frames with real faces (../shared/videos: chaplin, Megamind, carphone); pictures without
faces and synthetic layouts (a face cut by the frame edge, many faces) are made from those real crops, so the
detector sees real faces everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from salcrop_filter import _core


def frames_of(path: Path, count: int, step: int = 1) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % step == 0:
                out.append(f.to_ndarray(format="rgb24"))
            if len(out) == count:
                break
    return out


@pytest.fixture(scope="module")
def detector() -> "_core.FaceDetector":
    return _core.FaceDetector()


def test_the_shipped_model_is_found_and_loads(detector: "_core.FaceDetector") -> None:
    assert Path(detector.path).name == "face-yunet.onnx"
    assert Path(_core.face_model_path()).is_file()


def test_no_face_in_a_flat_or_noisy_picture(detector: "_core.FaceDetector") -> None:
    assert detector.detect(np.full((360, 640, 3), 128, np.uint8)) == []
    rng = np.random.default_rng(0)
    assert detector.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []


def test_a_bad_frame_is_refused(detector: "_core.FaceDetector") -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_real_faces_are_found_in_carphone(detector: "_core.FaceDetector", shared_videos: Path) -> None:
    # carphone: one man in a car, facing the camera through the whole clip.
    frames = frames_of(shared_videos / "carphone_pristine.mp4", 10, step=10)
    found = [detector.detect(f) for f in frames]
    assert sum(1 for d in found if d) >= 9, found
    h, w = frames[0].shape[:2]
    for dets in found:
        for x, y, bw, bh, score in dets:
            assert 0 <= x and 0 <= y and x + bw <= w + 1e-6 and y + bh <= h + 1e-6
            assert 0.6 <= score <= 1.0
    # The driver's face is the best one, and it is a face-sized box (not the whole frame).
    best = [d[0] for d in found if d]
    assert all(0.05 * w < b[2] < 0.6 * w for b in best)


def test_landmarks_sit_on_the_face(detector: "_core.FaceDetector", shared_videos: Path) -> None:
    # YuNet's five landmarks (the speaker scorer reads the mouth where they put it): inside the box, the eyes
    # above the nose above the mouth corners, the right eye (the viewer's left) left of the left eye.
    frames = frames_of(shared_videos / "carphone_pristine.mp4", 5, step=20)
    checked = 0
    for f in frames:
        for x, y, w, h, _, kps in detector.detect(f, landmarks=True)[:1]:
            assert kps is not None and len(kps) == 10
            px, py = np.array(kps[0::2]), np.array(kps[1::2])
            assert np.all((px >= x - 0.1 * w) & (px <= x + 1.1 * w) & (py >= y - 0.1 * h) & (py <= y + 1.1 * h))
            assert max(py[0], py[1]) < py[2] < min(py[3], py[4])
            assert px[0] < px[1] and px[3] < px[4]
            checked += 1
    assert checked >= 4
    # Without the flag: the 5-tuples as before.
    assert all(len(d) == 5 for d in detector.detect(frames[0]))
    # In the scorer's crop: where face_crop puts them (the square of side max(w, h) on the box's centre, 112 px).
    x, y, w, h, _, kps = detector.detect(frames[0], landmarks=True)[0]
    crop, in_crop = _core.face_crop(frames[0], (x, y, w, h), landmarks=kps)
    side = max(w, h)
    assert crop.shape == (112, 112)
    assert np.allclose(in_crop[0], (kps[0] - (x + w / 2 - side / 2)) * 112 / side, atol=1e-3)
    assert np.allclose(in_crop[9], (kps[9] - (y + h / 2 - side / 2)) * 112 / side, atol=1e-3)


def test_a_face_at_the_frame_edge_and_many_faces(detector: "_core.FaceDetector", shared_videos: Path) -> None:
    frame = frames_of(shared_videos / "carphone_pristine.mp4", 1)[0]
    x, y, w, h, _ = detector.detect(frame)[0]
    pad = int(0.3 * w)
    face = frame[max(0, int(y) - pad): int(y + h) + pad, max(0, int(x) - pad): int(x + w) + pad]
    fh, fw = face.shape[:2]
    # Half the face sticks out of the left edge: still found, its box inside the picture.
    canvas = np.full((360, 640, 3), 90, np.uint8)
    canvas[100:100 + fh, 0:fw - fw // 3] = face[:, fw // 3:]
    edge = detector.detect(canvas)
    assert edge and edge[0][0] >= 0 and edge[0][0] < 5
    # Twelve copies on a grid: twelve faces.
    grid = np.full((3 * fh + 40, 4 * fw + 50, 3), 90, np.uint8)
    for r in range(3):
        for c in range(4):
            grid[10 + r * (fh + 10): 10 + r * (fh + 10) + fh, 10 + c * (fw + 10): 10 + c * (fw + 10) + fw] = face
    many = detector.detect(grid)
    assert len(many) == 12, many


def push_clip(path: Path, frames: int, **options) -> tuple["_core.Engine", list, int]:
    options.setdefault("speakers", "auto")
    pushed = 0
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or 25)
        eng = None
        decisions: list = []
        for i, f in enumerate(c.decode(video=0)):
            if i == frames:
                break
            rgb = f.to_ndarray(format="rgb24")
            if eng is None:
                eng = _core.Engine(rgb.shape[1], rgb.shape[0], fps, **options)
            eng.push_rgb(rgb, f.time if f.time is not None else i / fps)
            pushed += 1
            decisions += eng.pop()
        decisions += eng.flush()
    return eng, decisions, pushed


def test_engine_face_tracks_keep_their_ids_through_a_shot(shared_videos: Path) -> None:
    eng, decisions, pushed = push_clip(shared_videos / "carphone_pristine.mp4", 150)
    assert "face-yunet" in eng.describe()
    assert len(decisions) == pushed >= 100
    with_face = [d for d in decisions if d.faces]
    assert len(with_face) >= pushed - 10
    ids = {f[0] for d in with_face for f in d.faces}
    # One driver: one track (a second, short one at most, for a spurious detection).
    main = max(ids, key=lambda i: sum(1 for d in with_face for f in d.faces if f[0] == i))
    assert sum(1 for d in with_face if any(f[0] == main for f in d.faces)) >= pushed - 10
    path = json.loads(eng.path_json())
    assert all("speaker" in f and f["speaker"] is None for f in path["frames"])  # no audio: nobody "speaks"
    tracks = [t for s in path["shots"] for t in s["tracks"]]
    assert any(t["id"] == main and t["kind"] == "face" and t["end"] - t["start"] >= pushed - 15 for t in tracks)
    for s in path["shots"]:
        for t in s["tracks"]:
            assert s["start"] <= t["start"] < t["end"] <= s["end"]


def test_speakers_off_sees_no_faces(shared_videos: Path) -> None:
    eng, decisions, _ = push_clip(shared_videos / "carphone_pristine.mp4", 40, speakers="off")
    assert all(not d.faces and d.speaker is None for d in decisions)
    assert "face-yunet" not in eng.describe()


def test_speakers_option_is_checked() -> None:
    with pytest.raises(ValueError, match="speakers"):
        _core.Engine(640, 360, 25.0, speakers="sometimes")


def test_track_faces_links_detections_and_holds_a_lost_face() -> None:
    box = lambda x: (x, 100.0, 60.0, 60.0, 0.9)  # noqa: E731
    dets = []
    for f in range(60):
        if f % 5:
            dets.append(None)  # the detector did not run
        elif 20 <= f < 30:
            dets.append([box(300.0)])  # the first face is missed for two samples
        else:
            dets.append([box(100.0 + f), box(300.0)])
    rows = _core.track_faces(dets, 25.0, hold_frames=10)
    ids_a = {r[0] for row in rows for r in row if r[1] < 250}
    assert len(ids_a) == 1  # the same id before and after the gap
    # Between detections, boxes are interpolated; across the gap (within the hold), not lost.
    a = [next(r for r in row if r[0] in ids_a) for row in rows[:56]]
    assert all(not r[5] for r in a)
    assert abs(a[12][1] - 112.0) < 1e-6
    # A face gone for more than a second ends; seen again, it is a new track.
    dets2 = [[box(100.0)] if f < 5 or f >= 40 else ([] if f % 5 == 0 else None) for f in range(50)]
    rows2 = _core.track_faces(dets2, 25.0, hold_frames=10)
    assert rows2[0][0][0] != rows2[45][0][0]
    # A shot cut ends every track.
    rows3 = _core.track_faces([[box(100.0)]] * 20, 25.0, cuts=[10])
    assert rows3[5][0][0] != rows3[15][0][0]


def test_crop_path_keeps_speaker_tracks_and_cuts() -> None:
    from salcrop_filter.croppath import CropPath

    doc = {"version": 2, "source": {"width": 64, "height": 36, "fps": 25}, "ratio": "9:16",
           "frames": [{"t": k / 25, "x": 0 if k < 2 else 40, "y": 0, "w": 20, "h": 36, "shot": 0,
                       "speaker": None if k == 0 else 3} for k in range(4)],
           "shots": [{"start": 0, "end": 4, "mode": "track", "reason": "planned",
                      "segments": [{"start": 0, "end": 2, "mode": "stationary"}, {"start": 2, "end": 4, "mode": "cut"}],
                      "tracks": [{"id": 3, "kind": "face", "start": 0, "end": 4}]}]}
    path = CropPath.from_json(json.dumps(doc))
    assert [f.speaker for f in path.frames] == [None, 3, 3, 3]
    again = json.loads(path.to_json())
    assert again["shots"][0]["tracks"] == doc["shots"][0]["tracks"]
    assert again["shots"][0]["segments"][1]["mode"] == "cut"
    assert "speaker" not in again["frames"][0] and again["frames"][1]["speaker"] == 3
    doc["frames"][1]["speaker"] = "left"
    with pytest.raises(ValueError, match="speaker"):
        CropPath.from_json(json.dumps(doc))


def test_filter_speakers_option(ffmpeg: Path, shared_videos: Path, tmp_path: Path) -> None:
    import subprocess

    src = shared_videos / "carphone_pristine.mp4"
    for value in ("off", "auto"):
        out = tmp_path / f"{value}.json"
        r = subprocess.run([str(ffmpeg), "-nostdin", "-v", "error", "-i", str(src), "-frames:v", "30", "-vf",
                            f"salcrop=ratio=9/16:speakers={value}:path={out}", "-f", "null", "-"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        doc = json.loads(out.read_text())
        assert len(doc["frames"]) >= 30 and all(f["speaker"] is None for f in doc["frames"])
        assert bool(doc["shots"][0].get("tracks")) == (value == "auto")
    r = subprocess.run([str(ffmpeg), "-nostdin", "-v", "error", "-i", str(src), "-frames:v", "5", "-vf",
                        "salcrop=speakers=sometimes", "-f", "null", "-"], capture_output=True, text=True)
    assert r.returncode != 0 and "speakers" in r.stderr


def _filter_path(ffmpeg: Path, inputs: list[str], graph: str, out: Path, synchronous: bool) -> dict:
    """The path JSON of one filter run with speakers=auto; synchronous: the face jobs inside push()."""
    import os
    import subprocess

    env = dict(os.environ)
    env.pop("SALCROP_FACES_SYNC", None)
    if synchronous:
        env["SALCROP_FACES_SYNC"] = "1"
    r = subprocess.run([str(ffmpeg), "-nostdin", "-v", "verbose", "-y", *inputs, "-filter_complex",
                        graph + f":path={out}[v]", "-map", "[v]", "-f", "null", "-"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert ("SALCROP_FACES_SYNC" in r.stderr) == synchronous and "faces:" in r.stderr
    doc = json.loads(out.read_text())
    _assert_summary_says(r.stderr, doc)
    return doc


def _assert_summary_says(stderr: str, doc: dict) -> None:
    """The line the filter logs at the end says what the path JSON has frame by frame: frames, shots, the frames
    that move, the cuts to a speaker, the frames that follow one, whom and among how many face tracks."""
    import re

    line = re.search(r"9:16: (\d+) frames in (\d+) shots?; the window moved on (\d+)% of them"
                     r"(?: and cut to a speaker (\d+) times?)?; it followed a speaker on (\d+)% of the frames "
                     r"\((\d+) of (\d+) face tracks; face detection run (\d+) times, let go (\d+)\)$", stderr, re.M)
    assert line, stderr[-2000:]
    frames, shots, moved, cuts, followed, speakers, tracks, run, let_go = (int(g or 0) for g in line.groups())
    n = len(doc["frames"])
    segments = [seg for shot in doc["shots"] for seg in shot["segments"]]
    moving = sum(seg["end"] - seg["start"] for seg in segments if seg["mode"] in ("pan", "ease"))
    who = [f["speaker"] for f in doc["frames"] if f["speaker"] is not None]
    assert (frames, shots) == (n, len(doc["shots"]))
    assert moved == int(100 * moving / n + 0.5) and cuts == sum(seg["mode"] == "cut" for seg in segments)
    assert followed == int(100 * len(who) / n + 0.5) and speakers == len(set(who))
    assert tracks == sum(t["kind"] == "face" for s in doc["shots"] for t in s["tracks"]) and run > 0 <= let_go


@pytest.mark.needs_shared
def test_the_face_worker_gives_the_synchronous_run_s_tracks_and_path(ffmpeg: Path, shared_data: Path,
                                                                      tmp_path: Path) -> None:
    """The detector and the crops run on their own thread; what the planner sees is what the run inside push()
    saw: the path JSON (windows, speaker per frame, face tracks per shot) byte for byte, on a real conversation."""
    clip = shared_data / "speakers" / "msdwild-00115" / "00115.mp4"
    inputs = ["-t", "10", "-i", str(clip)]
    graph = "[0:v][0:a]salcrop=ratio=9/16:audio=1:speakers=auto"
    threaded = _filter_path(ffmpeg, inputs, graph, tmp_path / "threaded.json", False)
    synchronous = _filter_path(ffmpeg, inputs, graph, tmp_path / "sync.json", True)
    assert (tmp_path / "threaded.json").read_bytes() == (tmp_path / "sync.json").read_bytes()
    assert len(threaded["frames"]) == 250 and threaded == synchronous
    assert any(f["speaker"] is not None for f in threaded["frames"])  # someone speaks, and is followed
    assert len([t for s in threaded["shots"] for t in s["tracks"]]) >= 2


@pytest.mark.needs_shared
def test_the_face_worker_across_faces_that_come_and_go(ffmpeg: Path, shared_videos: Path, tmp_path: Path) -> None:
    """A made clip: two real faces side by side (carphone and its mirror image) with a tone for sound, a second of
    black in the middle (no face: the worker gets no copies then) and the faces again; the threaded and the
    synchronous runs agree on every frame's window, faces and speaker."""
    import subprocess

    src = shared_videos / "carphone_pristine.mp4"
    clip = tmp_path / "two_faces.mkv"
    r = subprocess.run([str(ffmpeg), "-nostdin", "-v", "error", "-y", "-i", str(src), "-f", "lavfi", "-i",
                        "sine=f=220:d=8,volume=enable='lt(mod(t,1),0.6)':volume=0", "-filter_complex",
                        "[0:v]trim=end_frame=60,setpts=N/25/TB,split[a][b];[b]hflip[m];[a][m]hstack,split=3[p][q][r];"
                        "[q]drawbox=c=black:t=fill[black];[p][black][r]concat=n=3,format=yuv420p[v]",
                        "-map", "[v]", "-map", "1:a", "-c:v", "ffv1", "-c:a", "pcm_s16le", str(clip)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    inputs = ["-i", str(clip)]
    graph = "[0:v][0:a]salcrop=ratio=9/16:audio=1:speakers=auto:lookahead=1"
    threaded = _filter_path(ffmpeg, inputs, graph, tmp_path / "threaded.json", False)
    synchronous = _filter_path(ffmpeg, inputs, graph, tmp_path / "sync.json", True)
    assert threaded == synchronous
    tracks = [t for s in threaded["shots"] for t in s["tracks"]]
    assert len(threaded["frames"]) == 180 and len(tracks) >= 2


def test_a_split_run_s_joined_path_keeps_tracks_with_ids_unique_across_segments() -> None:
    """Each segment's engine numbers its face tracks from 0: joined, a segment's ids (tracks, speaker per frame)
    follow the previous segments' highest, and the tracks' frames are made global like the shots'."""
    from salcrop_filter.croppath import CropPath
    from salcrop_filter.shot_segments import join_paths

    def part(ids: list[int], speaker: int) -> CropPath:
        doc = {"version": 2, "source": {"width": 64, "height": 36, "fps": 25}, "ratio": "9:16",
               "frames": [{"t": k / 25, "x": 0, "y": 0, "w": 20, "h": 36, "shot": 0, "speaker": speaker}
                          for k in range(4)],
               "shots": [{"start": 0, "end": 4, "mode": "stationary", "reason": "planned",
                          "segments": [{"start": 0, "end": 4, "mode": "stationary"}],
                          "tracks": [{"id": i, "kind": "face", "start": 0, "end": 4} for i in ids]}]}
        return CropPath.from_json(json.dumps(doc))

    joined = json.loads(join_paths([part([0, 1], 1), part([0, 1, 2], 2), part([0], 0)]).to_json())
    assert [[t["id"] for t in s["tracks"]] for s in joined["shots"]] == [[0, 1], [2, 3, 4], [5]]
    assert [s["tracks"][0]["start"] for s in joined["shots"]] == [0, 4, 8]
    assert [f["speaker"] for f in joined["frames"]] == [1] * 4 + [4] * 4 + [5] * 4
