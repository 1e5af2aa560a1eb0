"""The crop planner as the rest of salcrop relies on it (`_core.plan_path`, pure: maps in, windows out).

Saliency maps here are synthetic on purpose: the planner's promises (geometry, steadiness, following the
subject, bounded motion, independence of shots) must hold for any maps, and a blob whose position we set
tells us where the subject is.
"""

from __future__ import annotations

import numpy as np
import pytest

from salcrop_filter import _core

MAP_H, MAP_W = 18, 32


def blob_maps(centres: list[tuple[float, float]], sigma: float = 1.5, h: int = MAP_H, w: int = MAP_W) -> np.ndarray:
    """One Gaussian blob per frame at (cx, cy) in map cells; each map sums to 1 like the model's."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    maps = np.stack([np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)) for cx, cy in centres])
    return (maps / maps.sum(axis=(1, 2), keepdims=True)).astype(np.float32)


def centre_px(window: np.ndarray) -> float:
    return float(window[0] + window[2] / 2)


@pytest.mark.parametrize(
    "width,height,ratio",
    [(1280, 720, "9:16"), (640, 360, "4/5"), (641, 361, "9:16"), (720, 1280, "16:9"), (1000, 1000, "1"),
     (176, 144, "0.5625")],
)
def test_windows_inside_frame_with_exact_ratio_and_even_sizes(width: int, height: int, ratio: str) -> None:
    rng = np.random.default_rng(1)
    maps = rng.random((60, MAP_H, MAP_W)).astype(np.float32) ** 4
    windows, shots = _core.plan_path(maps, [30], width, height, 25.0, ratio=ratio)
    assert windows.shape == (60, 4) and windows.dtype == np.int32
    x, y, w, h = windows.T
    assert (x >= 0).all() and (y >= 0).all() and (x + w <= width).all() and (y + h <= height).all()
    assert ((windows % 2) == 0).all(), "even=True keeps x, y, w, h even for chroma-subsampled output"
    num, den = _core.parse_ratio(ratio)
    # The largest window of the ratio: one side is the frame's (to even), the other within rounding.
    assert (w[0] >= width - 1) or (h[0] >= height - 1)
    assert abs(w[0] * den - h[0] * num) <= 2 * max(num, den)
    assert len(set(map(tuple, windows[:, 2:]))) == 1, "the window size never changes"
    assert [(s, e) for s, e, _ in shots] == [(0, 30), (30, 60)]


def test_even_off_allows_odd_geometry() -> None:
    maps = blob_maps([(20.0, 9.0)] * 10)
    windows, _ = _core.plan_path(maps, [], 641, 361, 25.0, ratio="9:16", even=False)
    assert windows[0, 3] == 361 and windows[0, 2] == round(361 * 9 / 16)


def test_static_off_centre_subject_gives_a_stationary_window_on_the_subject() -> None:
    # Subject at 80% of the width: a centre crop would miss it.
    maps = blob_maps([(0.8 * MAP_W, 9.0)] * 100)
    windows, shots = _core.plan_path(maps, [], 1280, 720, 25.0)
    assert shots == [(0, 100, "stationary")]
    assert (windows == windows[0]).all(), "a stationary shot does not move at all"
    x, _, w, _ = windows[0]
    assert x <= 0.8 * 1280 <= x + w
    assert abs(centre_px(windows[0]) - 640) > 200, "not a centre crop"


def test_small_jitter_does_not_move_the_camera() -> None:
    rng = np.random.default_rng(2)
    centres = [(10.0 + rng.uniform(-0.4, 0.4), 9.0 + rng.uniform(-0.4, 0.4)) for _ in range(120)]
    windows, shots = _core.plan_path(blob_maps(centres), [], 1280, 720, 30.0, mode="track")
    assert shots[0][2] == "track"
    assert (windows[:, 0] == windows[0, 0]).all(), "a dead band keeps tiny motions from moving the camera"


def test_each_shot_is_planned_on_its_own_and_nothing_moves_across_a_cut() -> None:
    left = blob_maps([(5.0, 9.0)] * 50)
    right = blob_maps([(27.0, 9.0)] * 50)
    maps = np.concatenate([left, right])
    windows, shots = _core.plan_path(maps, [50], 1280, 720, 25.0)
    assert [(s, e) for s, e, _ in shots] == [(0, 50), (50, 100)]
    assert (windows[:50] == windows[0]).all() and (windows[50:] == windows[50]).all()
    assert windows[0, 0] < 300 and windows[50, 0] > 700, "the window jumps at the cut, not before or after"
    alone, _ = _core.plan_path(right, [], 1280, 720, 25.0)
    assert (alone == windows[50:]).all(), "the second shot does not depend on the first"


def test_steadily_moving_subject_gives_a_constant_speed_pan() -> None:
    n = 100  # 4 s at 25 fps, the subject crosses from 25% to 75% of the width
    centres = [(MAP_W * (0.25 + 0.5 * t / (n - 1)), 9.0) for t in range(n)]
    windows, shots, segments = _core.plan_path(blob_maps(centres), [], 1280, 720, 25.0, with_segments=True)
    assert shots == [(0, n, "track")], "eases in and out of the pan make it more than one constant speed"
    # The planner keeps the map's mass: a subject anywhere inside the window costs nothing, so the camera sets off
    # when the subject nears the window's edge and eases in and out (~0.6 s each): a pan of about half the shot.
    assert max(e - s for s, e, kind in segments if kind == "pan") >= 0.45 * n, "mostly one constant-speed pan"
    x = windows[:, 0].astype(float)
    # The subject crosses 614 px, the window is 406 px wide: it has to move at least the difference.
    assert x[-1] - x[0] > 614 - 406, "the pan follows the subject across the frame"
    v = np.diff(x)
    assert (v >= 0).all()
    assert np.abs(np.diff(v)).max() <= 4, "speed changes smoothly (up to even-pixel rounding)"
    for t in range(n):
        assert windows[t, 0] <= centres[t][0] / MAP_W * 1280 <= windows[t, 0] + windows[t, 2]


def test_erratic_subject_is_followed_with_bounded_velocity_and_acceleration() -> None:
    fps, n, width = 25.0, 150, 1280
    # The subject dashes right, waits, jumps back left, waits: no fixed window or single sweep fits.
    xs = np.concatenate([np.linspace(4, 28, 30), np.full(40, 28.0), np.full(80, 6.0)])
    windows, shots, segments = _core.plan_path(blob_maps([(x, 9.0) for x in xs]), [], width, 720, fps,
                                               with_segments=True)
    assert {kind for _, _, kind in segments} >= {"stationary", "ease"}, "holds, and eases between them"
    x = windows[:, 0].astype(float)
    # Limits documented in csrc/src/planner.cpp: at smoothing 0.5, 0.4 frame widths per second and
    # 1.75 times that per second squared; even-pixel rounding adds up to 2 px per frame.
    vmax = 0.4 * width / fps
    amax = 0.4 * 1.75 * width / fps**2
    v = np.diff(x)
    assert np.abs(v).max() <= vmax + 2
    assert np.abs(np.diff(v)).max() <= amax + 4
    # It still gets there: the subject is inside the window during each hold (the lookahead lets the camera
    # set off for the subject's jump back a little before it happens).
    for t in (45, 149):
        assert windows[t, 0] <= xs[t] / MAP_W * width <= windows[t, 0] + windows[t, 2]


def test_more_smoothing_gives_a_calmer_path() -> None:
    xs = np.concatenate([np.full(30, 4.0), np.full(60, 28.0), np.full(60, 6.0)])
    maps = blob_maps([(x, 9.0) for x in xs])
    speeds = []
    for smoothing in (0.1, 0.9):
        windows, _ = _core.plan_path(maps, [], 1280, 720, 25.0, mode="track", smoothing=smoothing)
        speeds.append(np.abs(np.diff(windows[:, 0].astype(float))).max())
    assert speeds[1] < speeds[0]


def test_forced_modes() -> None:
    n = 100
    centres = [(MAP_W * (0.2 + 0.6 * t / (n - 1)), 9.0) for t in range(n)]
    maps = blob_maps(centres)
    windows, shots = _core.plan_path(maps, [], 1280, 720, 25.0, mode="stationary")
    assert shots[0][2] == "stationary" and (windows == windows[0]).all()
    _, shots = _core.plan_path(maps, [], 1280, 720, 25.0, mode="track")
    assert shots[0][2] == "track"
    _, shots = _core.plan_path(maps, [], 1280, 720, 25.0, mode="pan")
    assert shots[0][2] == "pan"


def test_portrait_source_for_a_landscape_target_moves_vertically() -> None:
    # Subject near the bottom of a 720x1280 portrait frame; target 16:9.
    maps = blob_maps([(16.0, 28.0)] * 40, h=32, w=18)
    maps = blob_maps([(9.0, 26.0)] * 40, h=32, w=18)
    windows, _ = _core.plan_path(maps, [], 720, 1280, 25.0, ratio="16:9")
    assert (windows[:, 0] == 0).all() and (windows[:, 2] == 720).all()
    assert windows[0, 3] == 404 or windows[0, 3] == 406
    assert windows[0, 1] > 1280 / 2 - windows[0, 3] / 2, "moved down towards the subject"


def test_same_ratio_means_the_whole_frame() -> None:
    maps = blob_maps([(3.0, 3.0)] * 10)
    windows, shots = _core.plan_path(maps, [], 1280, 720, 25.0, ratio="16:9")
    assert (windows == [0, 0, 1280, 720]).all() and shots[0][2] == "stationary"


@pytest.mark.parametrize(
    "kwargs,option",
    [({"ratio": "0"}, "ratio"), ({"ratio": "-9:16"}, "ratio"), ({"ratio": "wide"}, "ratio"),
     ({"ratio": "1/1000"}, "ratio"), ({"ratio": "16:0"}, "ratio"), ({"mode": "zoom"}, "mode"),
     ({"smoothing": 1.5}, "smoothing"), ({"fps": 0.0}, "fps")],
)
def test_bad_planner_options_are_refused_by_name(kwargs: dict, option: str) -> None:
    args = {"maps": blob_maps([(5.0, 5.0)] * 3), "cuts": [], "width": 640, "height": 360, "fps": 25.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=option):
        _core.plan_path(**args)


@pytest.mark.parametrize("text,expected", [("9:16", (9, 16)), ("4/5", (4, 5)), ("1", (1, 1)), ("0.5625", (9, 16)),
                                           ("18:32", (9, 16)), ("1.91", (191, 100))])
def test_parse_ratio(text: str, expected: tuple[int, int]) -> None:
    assert _core.parse_ratio(text) == expected


def reversals_within(x: np.ndarray, frames: int) -> int:
    """How many times the window turns back within `frames` of its previous move the other way."""
    v = np.diff(x.astype(float))
    moves = [(t, np.sign(d)) for t, d in enumerate(v) if d != 0]
    count, last = 0, None  # last: (frame, direction) of the latest move
    for t, d in moves:
        if last is not None and d != last[1] and t - last[0] < frames:
            count += 1
        last = (t, d)
    return count


def two_subjects(n: int, switch_every: int, left: float = 4.0, right: float = 28.0) -> np.ndarray:
    """Two people at the two sides; who is looked at more alternates every `switch_every` frames."""
    yy, xx = np.mgrid[0:MAP_H, 0:MAP_W].astype(np.float32) + 0.5
    blob = lambda cx: np.exp(-((xx - cx) ** 2 + (yy - 9.0) ** 2) / (2 * 1.5**2))  # noqa: E731
    maps = []
    for t in range(n):
        strong_left = (t // switch_every) % 2 == 0
        maps.append((0.75 if strong_left else 0.25) * blob(left) + (0.25 if strong_left else 0.75) * blob(right))
    maps = np.stack(maps)
    return (maps / maps.sum(axis=(1, 2), keepdims=True)).astype(np.float32)


def test_two_speakers_taking_quick_turns_do_not_make_the_camera_ping_pong() -> None:
    # Dominance flips every 0.4 s for 8 s: an editor holds one speaker rather than chase every turn.
    windows, _ = _core.plan_path(two_subjects(200, 10), [], 1280, 720, 25.0)
    x = windows[:, 0]
    assert reversals_within(x, 25) == 0
    assert np.abs(np.diff(x.astype(float))).sum() <= 1280, "at most one move across, not one per turn"


def test_a_speaker_who_keeps_the_floor_gets_the_camera_once() -> None:
    # Turns of 3 s: the camera moves to each speaker, once per turn, and holds.
    windows, _, segments = _core.plan_path(two_subjects(225, 75), [], 1280, 720, 25.0, with_segments=True)
    x = windows[:, 0].astype(float)
    centre = x + windows[:, 2] / 2
    left_px, right_px = 4.0 / MAP_W * 1280, 28.0 / MAP_W * 1280
    for turn in range(3):
        # Two thirds into each turn (the lookahead lets the camera leave a little before a turn ends).
        at = 75 * turn + 50
        target = left_px if turn % 2 == 0 else right_px
        assert abs(centre[at] - target) < windows[0, 2] / 2, f"turn {turn}: the speaker is not in the window"
    assert reversals_within(windows[:, 0], 25) == 0
    moves = sum(1 for a, b in zip(segments, segments[1:]) if a[2] == "stationary" and b[2] != "stationary")
    assert moves == 2, f"one move per change of speaker, holding in between: {segments}"


def test_no_direction_reversal_within_a_second_on_noisy_maps() -> None:
    rng = np.random.default_rng(7)
    maps = (rng.random((250, MAP_H, MAP_W)) ** 6).astype(np.float32)
    windows, _ = _core.plan_path(maps, [], 1920, 1080, 25.0)
    assert reversals_within(windows[:, 0], 25) == 0


def test_keyframes_pin_the_window_and_the_path_stays_smooth() -> None:
    n, fps, width = 150, 25.0, 1280
    maps = blob_maps([(16.0, 9.0)] * n)  # the subject stays in the middle
    keys = [(40, 300.0, 360.0), (110, 1000.0, 360.0)]  # the user wants the left, then the right
    windows, _ = _core.plan_path(maps, [], width, 720, fps, keyframes=keys)
    for frame, cx, _ in keys:
        assert abs(windows[frame, 0] + windows[frame, 2] / 2 - cx) <= 2, "the window is centred on the keyframe"
    x = windows[:, 0].astype(float)
    v = np.diff(x)
    assert np.abs(v).max() <= 0.4 * width / fps + 2
    assert np.abs(np.diff(v)).max() <= 0.4 * 1.75 * width / fps**2 + 4
    assert reversals_within(windows[:, 0], 25) == 0


@pytest.mark.parametrize("keys,match", [([(150, 10.0, 10.0)], "outside the clip"),
                                        ([(3, 10.0, 10.0), (3, 20.0, 10.0)], "two keyframes")])
def test_bad_keyframes_are_refused(keys: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _core.plan_path(blob_maps([(5.0, 5.0)] * 150), [], 640, 360, 25.0, keyframes=keys)


def test_segments_cover_every_frame_and_say_what_the_window_does() -> None:
    xs = np.concatenate([np.full(50, 6.0), np.linspace(6, 26, 100), np.full(50, 26.0)])
    windows, shots, segments = _core.plan_path(blob_maps([(x, 9.0) for x in xs]), [120], 1280, 720, 25.0,
                                               with_segments=True, even=False)
    assert segments[0][0] == 0 and segments[-1][1] == len(xs)
    assert all(a[1] == b[0] for a, b in zip(segments, segments[1:]))
    assert not any(s < 120 < e for s, e, _ in segments), "no segment runs across a cut"
    x = windows[:, 0].astype(float)
    for s, e, kind in segments:
        if kind == "stationary" and s not in (0, 120):
            assert (x[s:e] == x[s - 1]).all(), "a stationary segment does not move"
        if kind == "pan" and e - s > 2:
            v = np.diff(x[s - 1 if s not in (0, 120) else s:e])
            assert np.abs(np.diff(v)).max() <= 2, "a pan keeps its speed (up to rounding)"
    assert "pan" in {kind for _, _, kind in segments}
