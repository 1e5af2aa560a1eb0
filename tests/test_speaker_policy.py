"""The speaker policy (csrc/src/speaker_policy.h) on synthetic face tracks, pure, through `_core.follow_speakers`:
which face the camera follows, when it moves and when it cuts, run in the engine's chunks.

A 1280x720 frame at 9:16: the window is 405 px wide. Face A sits left (x 100..200), face B right (x 1000..1100):
too far apart for one window, so a turn from A to B is a cut. Face C (x 300..400) is near A: both fit in one window.
"""

from __future__ import annotations

import numpy as np
import pytest

from salcrop_filter import _core

FPS = 25.0
W, H = 1280, 720
A, B, C = (100.0, 200.0, 100.0, 100.0), (1000.0, 200.0, 100.0, 100.0), (300.0, 200.0, 100.0, 100.0)


def tracks(frames: int, *faces: tuple[float, float, float, float]) -> np.ndarray:
    return np.array([[face] * frames for face in faces], dtype=np.float64)


def speaking(frames: int, turns: list[tuple[int, float, float]], faces: int) -> np.ndarray:
    """turns: (face, start s, end s) when that face speaks; 0.05 elsewhere (sound, nobody speaking)."""
    s = np.full((faces, frames), 0.05, np.float32)
    for face, t0, t1 in turns:
        s[face, int(t0 * FPS): int(t1 * FPS)] = 0.95
    return s


def turns_of(speaker: list[int]) -> list[tuple[int, int]]:
    """(frame, new speaker) each time the followed face changes."""
    return [(k, s) for k, s in enumerate(speaker) if k == 0 or s != speaker[k - 1]]


def test_follows_the_speaker_and_cuts_when_far() -> None:
    n = int(12 * FPS)
    spk, cuts, targets = _core.follow_speakers(tracks(n, A, B), speaking(n, [(0, 0, 6), (1, 6, 12)], 2), W, H, FPS)
    assert spk[int(1 * FPS)] == 0 and spk[int(8 * FPS)] == 1
    # The turn comes at the start of B's speech (the editor's cut), not a second late.
    change = next(k for k in range(1, n) if spk[k] != spk[k - 1])
    assert abs(change - 6 * FPS) <= 2
    assert cuts == [change]
    # The speaker's face is the target, with its extent along x.
    t = targets[int(8 * FPS)]
    assert [(tr[0], tr[1], tr[2]) for tr in t] == [(1, 1000.0, 1100.0)] and t[0][3] > 0


def test_a_near_speaker_gets_a_move_not_a_cut() -> None:
    n = int(10 * FPS)
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, C), speaking(n, [(0, 0, 5), (1, 5, 10)], 2), W, H, FPS)
    assert spk[int(7 * FPS)] == 1
    assert cuts == []


def test_short_interjections_and_overlaps_do_not_move_it() -> None:
    n = int(12 * FPS)
    # A speaks throughout; B says "mm" (0.4 s) three times, once over A.
    s = speaking(n, [(0, 0, 12), (1, 2, 2.4), (1, 5, 5.4), (1, 9, 9.3)], 2)
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert set(spk[int(0.5 * FPS):]) == {0}
    assert cuts == []
    # A pauses and B interjects for 0.6 s: the floor is not taken (hold it ~1 s).
    s = speaking(n, [(0, 0, 4), (1, 4.2, 4.8), (0, 5, 12)], 2)
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert set(spk[int(0.5 * FPS):]) == {0} and cuts == []


def test_no_ping_pong_on_alternating_short_turns() -> None:
    n = int(20 * FPS)
    # 1.2 s turns, alternating: each holds the floor, but the camera changes at most once per 2 s.
    turns = [(k % 2, 1.2 * k, 1.2 * (k + 1)) for k in range(16)]
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), speaking(n, turns, 2), W, H, FPS)
    changes = [k for k, _ in turns_of(spk)][1:]
    assert all(b - a >= 2 * FPS for a, b in zip(changes, changes[1:])), changes
    assert all(b - a >= 2 * FPS for a, b in zip(cuts, cuts[1:])), cuts
    assert len(changes) <= n / (2 * FPS)


def test_listeners_do_not_move_it_and_silence_keeps_the_last_speaker() -> None:
    n = int(10 * FPS)
    # A speaks 0-3 s, then silence: the camera stays on A (nobody took the floor) for 3 s, then lets go.
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), speaking(n, [(0, 0, 3)], 2), W, H, FPS)
    assert set(spk[int(0.5 * FPS):int(5.9 * FPS)]) == {0} and cuts == []
    assert set(spk[int(6.2 * FPS):]) == {-1}
    # B nods and says nothing: a listener's reaction, not a reason to move.
    s = speaking(n, [(0, 0, 10)], 2)
    s[1, int(4 * FPS):int(4.5 * FPS)] = 0.7
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert set(spk[int(0.5 * FPS):]) == {0} and cuts == []


def test_two_talking_at_once_that_fit_are_both_framed() -> None:
    n = int(6 * FPS)
    spk, _, targets = _core.follow_speakers(tracks(n, A, C), speaking(n, [(0, 0, 6), (1, 3, 6)], 2), W, H, FPS)
    assert spk[int(4 * FPS)] == 0
    assert {t[0] for t in targets[int(4 * FPS)]} == {0, 1}
    # Too far apart to fit one window: only the speaker.
    spk, _, targets = _core.follow_speakers(tracks(n, A, B), speaking(n, [(0, 0, 6), (1, 3, 6)], 2), W, H, FPS)
    assert {t[0] for t in targets[int(4 * FPS)]} == {0}


def test_without_sound_a_lone_large_face_counts_and_nobody_speaks() -> None:
    n = 50
    big = (900.0, 100.0, 200.0, 200.0)
    small = (600.0, 100.0, 40.0, 40.0)  # under 15% of the height: a face in a crowd, not counted
    unknown = np.full((2, n), -1, np.float32)
    spk, cuts, targets = _core.follow_speakers(tracks(n, big), unknown[:1], W, H, FPS)
    assert set(spk) == {-1} and cuts == []
    assert [(t[0], t[1], t[2]) for t in targets[10]] == [(0, 900.0, 1100.0)] and targets[10][0][3] > 0
    # A small face alone, or a large one beside another: no guess.
    _, _, targets = _core.follow_speakers(tracks(n, small), unknown[:1], W, H, FPS)
    assert all(not t for t in targets)
    _, _, targets = _core.follow_speakers(tracks(n, big, small), unknown, W, H, FPS)
    assert all(not t for t in targets)
    _, _, targets = _core.follow_speakers(tracks(n, big, (200.0, 100.0, 200.0, 200.0)), unknown, W, H, FPS)
    assert all(not t for t in targets)


def test_pinned_and_ignored() -> None:
    n = int(8 * FPS)
    s = speaking(n, [(0, 0, 8)], 2)
    spk, _, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, pinned=[1])
    assert set(spk) == {1}
    spk, _, targets = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, ignored=[0])
    assert set(spk) == {-1} and all(not t for t in targets)


def test_a_face_that_leaves_is_not_followed() -> None:
    n = int(6 * FPS)
    boxes = tracks(n, A, B)
    boxes[0, int(3 * FPS):] = np.nan  # A leaves the picture at 3 s
    spk, _, targets = _core.follow_speakers(boxes, speaking(n, [(0, 0, 6)], 2), W, H, FPS)
    assert spk[int(2 * FPS)] == 0 and spk[int(4 * FPS)] == -1
    assert targets[int(4 * FPS)] == []


def test_bad_arrays_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="N x T x 4"):
        _core.follow_speakers(np.zeros((2, 5)), np.zeros((2, 5), np.float32), W, H, FPS)
    with pytest.raises(ValueError, match="speaking"):
        _core.follow_speakers(np.zeros((2, 5, 4)), np.zeros((2, 4), np.float32), W, H, FPS)


def smeared(frames: int, turns: list[tuple[int, float, float]], faces: int, half: float = 0.5) -> np.ndarray:
    """As `speaking`, but each face's score is its 0.05/0.6 steps averaged over +-half s, the way the scorer's
    window smears a turn's edges (and a listener's score rises before she speaks): a threshold crosses late, the
    two faces' curves cross at the turn."""
    hard = np.full((faces, frames), 0.05, np.float32)
    for face, t0, t1 in turns:
        hard[face, int(t0 * FPS): int(t1 * FPS)] = 0.6
    k = int(half * FPS)
    kernel = np.ones(2 * k + 1) / (2 * k + 1)
    padded = np.pad(hard, ((0, 0), (k, k)), mode="edge")
    return np.stack([np.convolve(row, kernel, mode="valid") for row in padded]).astype(np.float32)


def test_the_cut_lands_at_the_start_of_the_turn_with_smeared_scores() -> None:
    n = int(12 * FPS)
    # Scores never reach 0.5 at all (poorly calibrated, as the real scorer's): the faces are compared with each
    # other, and the turn is taken where B's curve crosses A's, at B's first word, seen with the lookahead.
    s = smeared(n, [(0, 0, 6), (1, 6, 12)], 2)
    assert s.max() < 0.65
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    change = next(k for k in range(1, n) if spk[k] != spk[k - 1] and spk[k - 1] >= 0)
    assert abs(change - 6 * FPS) <= 0.2 * FPS, change / FPS
    assert cuts == [change]


def test_a_smeared_interjection_or_laugh_does_not_take_the_floor() -> None:
    n = int(12 * FPS)
    # A pauses for B's 0.6 s interjection (or laugh), which reads as ~1.6 s of a raised score once smeared and
    # leads for about a second: it does not hold the floor (kFloorSeconds), the camera stays on A.
    s = smeared(n, [(0, 0, 5), (1, 5, 5.6), (0, 5.6, 12)], 2)
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert set(spk[int(1 * FPS):]) == {0}, sorted(set(spk))
    assert cuts == []


def test_ambiguous_voices_leave_the_floor_to_saliency() -> None:
    n = int(8 * FPS)
    # Both mouths move alike (the start of a scene, laughter, an overlap): nobody leads by the margin, nobody has
    # the floor, and the policy adds no target (the saliency decides, as with speakers=off).
    rng = np.random.default_rng(0)
    s = (0.5 + 0.02 * rng.standard_normal((2, n))).astype(np.float32)
    spk, cuts, targets = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert set(spk) == {-1} and cuts == [] and all(not t for t in targets)


def test_an_interjection_in_an_ambiguous_start_does_not_take_the_floor() -> None:
    # msdwild-00115's first seconds, synthetic: A speaks 0-6 s while B's mouth moves too (her score close to A's
    # from 0.8 s), B interjects 1.9-2.7 s; then B's real turn 6-11 s and A's 11-16 s. The floor path never gives
    # B the interjection (a change there and back costs 2 s of a full lead), and takes B's real turn where her
    # score crosses A's (with hindsight over the chunk), with a cut.
    n = int(16 * FPS)
    s = smeared(n, [(0, 0, 6), (1, 1.9, 2.7), (1, 6, 11), (0, 11, 16)], 2)
    s[1, int(0.8 * FPS):int(4 * FPS)] += 0.15  # B's mouth moves around her interjection
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    assert 1 not in spk[: int(5.5 * FPS)], turns_of(list(spk))
    to_b = next(k for k in range(n) if spk[k] == 1)
    assert abs(to_b - 6 * FPS) <= 0.3 * FPS, to_b / FPS
    assert to_b in cuts
    assert spk[int(13 * FPS)] == 0
    changes = [k for k, _ in turns_of(list(spk))][1:]
    assert all(b - a >= 2 * FPS for a, b in zip(changes, changes[1:])), changes


def test_a_face_seen_for_a_moment_does_not_compete() -> None:
    n = int(10 * FPS)
    # A false detection (or a face turning in) on screen 0.44 s, where B's turn begins, with a high first score: it
    # does not take the lead from B, whose turn from 4 s is taken as without it (were it counted, B's lead would
    # start when it leaves).
    D = (600.0, 200.0, 100.0, 100.0)
    boxes = tracks(n, A, B, D)
    boxes[2, :] = np.nan
    boxes[2, int(3.9 * FPS):int(4.34 * FPS)] = D
    s = smeared(n, [(0, 0, 4), (1, 4, 10)], 3)
    s[2, :] = 0.95
    spk, _, _ = _core.follow_speakers(boxes, s, W, H, FPS)
    without, _, _ = _core.follow_speakers(boxes[:2], s[:2], W, H, FPS)
    assert list(spk) == list(without)
    assert spk[int(6 * FPS)] == 1


# Without sound, the mouth alone (issue 25, stop 32): rules="mouth" (speaker_policy.h kMouthRules), the scores
# being P(this mouth speaks) from speakers.h score_mouth.


def test_mouth_rules_a_lone_face_is_not_the_speaker() -> None:
    n = 100
    big = (900.0, 100.0, 200.0, 200.0)
    s = np.full((1, n), 0.9, np.float32)  # a lone face whose mouth moves: a presenter, or someone eating
    spk, cuts, targets = _core.follow_speakers(tracks(n, big), s, W, H, FPS, rules="mouth")
    _, _, no_scores = _core.follow_speakers(tracks(n, big), np.full((1, n), -1, np.float32), W, H, FPS)
    assert set(spk) == {-1} and cuts == []
    assert targets == no_scores  # as without scores: the one large face counts, as a face
    heard, _, heard_targets = _core.follow_speakers(tracks(n, big), s, W, H, FPS)
    assert set(heard[int(FPS):]) == {0} and heard_targets[50][0][3] > targets[50][0][3]


def test_mouth_rules_follow_a_real_turn_with_less_weight() -> None:
    n = int(14 * FPS)
    s = smeared(n, [(0, 0, 6), (1, 6, 14)], 2)
    heard, heard_cuts, heard_targets = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    spk, cuts, targets = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, rules="mouth")
    assert turns_of(list(spk)) == turns_of(list(heard)) and cuts == heard_cuts
    to_b = next(k for k in range(n) if spk[k] == 1)
    assert abs(to_b - 6 * FPS) <= 0.3 * FPS and to_b in cuts
    assert [t[:3] for t in targets[int(10 * FPS)]] == [t[:3] for t in heard_targets[int(10 * FPS)]]
    assert 0 < targets[int(10 * FPS)][0][3] < heard_targets[int(10 * FPS)][0][3]


def test_mouth_rules_are_more_cautious_than_with_sound() -> None:
    n = int(14 * FPS)
    # B's mouth leads for 2.4 s in the middle of A's talk: with sound (a real interjection) that takes the floor,
    # with a cut there and back; by the mouth alone (a laugh, a smile, chewing) it does not: nobody has the floor
    # meanwhile (the saliency decides), then A again, and no cut.
    s = smeared(n, [(0, 0, 5), (1, 5, 7.4), (0, 7.4, 14)], 2)
    heard, heard_cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS)
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, rules="mouth")
    assert 1 in heard and heard_cuts
    assert 1 not in spk and cuts == [] and set(spk[int(8 * FPS):]) == {0}
    # A pauses 2 s (mouth still) while B chews: the camera stays on A.
    s = smeared(n, [(0, 0, 5), (0, 7, 14)], 2)
    s[1, int(5 * FPS):int(7 * FPS)] = 0.45
    spk, cuts, _ = _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, rules="mouth")
    assert set(spk[int(FPS):]) == {0} and cuts == []
    with pytest.raises(ValueError, match="rules must be"):
        _core.follow_speakers(tracks(n, A, B), s, W, H, FPS, rules="eyes")
