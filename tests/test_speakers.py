"""Who speaks (csrc/src/speakers.cpp through _core.SpeakerScorer) on synthetic talking faces with exact labels.

A voice from Debian's espeak-ng (a real speech synthesiser, so the real voice-activity model hears speech), then
silence, then the voice again; two rendered faces watch it: one whose mouth opens with the voice's loudness, one
whose mouth stays shut. Both faces' heads and light move the same way (sway, flicker, noise), so only the mouth tells
them apart. Needs no ../shared: CI runs it as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from salcrop_filter import _core

FPS = 25.0
SIZE = 112
SPEECH = "The camera should follow whoever is speaking, and cut cleanly when the next person starts to talk."


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    """espeak-ng's voice as int16 samples and their rate."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing (scripts/setup.sh installs it: apt-get install espeak-ng)", pytrace=False)
    wav = tmp_path_factory.mktemp("voice") / "say.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), SPEECH], check=True, capture_output=True)
    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def soundtrack(speech: np.ndarray, rate: int, silence: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """speech, `silence` seconds of nothing, speech again; and the two spans of speech in seconds."""
    gap = np.zeros(int(silence * rate), np.int16)
    first = len(speech) / rate
    return np.concatenate([speech, gap, speech]), [(0.0, first), (first + silence, 2 * first + silence)]


def envelope(samples: np.ndarray, rate: int, t: float) -> float:
    a = samples[max(0, int((t - 0.03) * rate)):int((t + 0.03) * rate)].astype(np.float64) / 32768
    return float(np.sqrt(np.mean(a * a))) if len(a) else 0.0


def render_face(opening: float, frame: int, rng: np.random.Generator) -> np.ndarray:
    """A grey face box: skin, two eyes, a mouth open by `opening` (0..1); the head sways and the light flickers."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    dx = 3 * np.sin(frame / 11.0)
    dy = 2 * np.sin(frame / 7.0)
    img = np.full((SIZE, SIZE), 50.0)
    img[((xx - 56 - dx) / 44) ** 2 + ((yy - 58 - dy) / 54) ** 2 <= 1] = 170
    for ex in (38, 74):
        img[((xx - ex - dx) / 7) ** 2 + ((yy - 38 - dy) / 4) ** 2 <= 1] = 40
    half_height = 1.5 + 9 * opening
    img[((xx - 56 - dx) / 15) ** 2 + ((yy - 84 - dy) / half_height) ** 2 <= 1] = 30
    img *= 1 + 0.04 * np.sin(frame / 5.0)  # the light
    img += rng.normal(0, 2, img.shape)  # the sensor
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def scene(voice: tuple[np.ndarray, int]) -> dict:
    speech, rate = voice
    samples, spans = soundtrack(speech, rate, silence=2.0)
    seconds = len(samples) / rate
    times = np.arange(int(seconds * FPS)) / FPS
    loud = np.array([envelope(samples, rate, t) for t in times])
    opening = np.clip(loud / (np.percentile(loud, 90) + 1e-9), 0, 1)
    rng = np.random.default_rng(7)
    talker = np.stack([render_face(o, i, rng) for i, o in enumerate(opening)])
    listener = np.stack([render_face(0.0, i, rng) for i in range(len(times))])
    audio = _core.AudioTrack()
    for start in range(0, len(samples), 1024):  # as a decoder gives it: blocks with their own times
        audio.push(samples[None, start:start + 1024], "s16", rate, start / rate, channels=1)
    audio.end()
    in_speech = np.zeros(len(times), bool)
    for a, b in spans:
        in_speech |= (times >= a + 0.5) & (times <= b - 0.5)  # well inside: the windows reach 1 s around
    silent = (times >= spans[0][1] + 0.6) & (times <= spans[1][0] - 0.6)
    return dict(times=times, talker=talker, listener=listener, audio=audio, in_speech=in_speech, silent=silent)


def test_the_talking_face_speaks_and_the_listener_does_not(scene: dict) -> None:
    scorer = _core.SpeakerScorer()
    talk, talk_mouth, talk_voice = scorer.score(scene["talker"], scene["times"], scene["audio"], FPS)
    listen, listen_mouth, _ = scorer.score(scene["listener"], scene["times"], scene["audio"], FPS)
    assert np.all(talk >= 0) and np.all(listen >= 0)  # all scored: the sound is known to the end
    speech, silent = scene["in_speech"], scene["silent"]
    assert speech.sum() > 50 and silent.sum() > 15
    # The voice model hears the voice and the silence.
    assert np.median(talk_voice[speech]) > 0.7
    assert np.max(talk_voice[silent]) < 0.3
    # While the voice speaks: the moving mouth speaks, the shut one does not, on most frames.
    assert np.mean(talk[speech] > 0.5) > 0.8
    assert np.mean(listen[speech] < 0.5) > 0.95
    assert np.median(talk_mouth[speech]) > np.median(listen_mouth[speech]) + 1  # z: the logit of P(mouth)
    # In the silence nobody speaks, whatever the mouths do.
    assert np.all(talk[silent] < 0.3) and np.all(listen[silent] < 0.3)


def test_crops_cut_from_frames_score_the_same(scene: dict) -> None:
    # The faces as a frame shows them: each 112x112 face scaled x2 into a 640x360 frame, its box touching the
    # frame's right edge for the talker; face_crop cuts them back out as the engine does.
    frames_t, frames_l = [], []
    for talker, listener in zip(scene["talker"], scene["listener"]):
        frame = np.full((360, 640, 3), 90, np.uint8)
        frame[40:264, 60:284] = np.repeat(np.repeat(listener, 2, 0), 2, 1)[..., None]
        frame[100:324, 416:640] = np.repeat(np.repeat(talker, 2, 0), 2, 1)[..., None]
        frames_t.append(_core.face_crop(frame, (416, 100, 224, 224)))
        frames_l.append(_core.face_crop(frame, (60, 40, 224, 224)))
    talker, listener = np.stack(frames_t), np.stack(frames_l)
    assert np.abs(talker.astype(int) - scene["talker"]).mean() < 2  # the crop is the face again
    scorer = _core.SpeakerScorer()
    talk, _, _ = scorer.score(talker, scene["times"], scene["audio"], FPS)
    listen, _, _ = scorer.score(listener, scene["times"], scene["audio"], FPS)
    speech = scene["in_speech"]
    assert np.mean(talk[speech] > 0.5) > 0.8 and np.mean(listen[speech] < 0.5) > 0.95


def test_face_crop_at_the_frame_edge_repeats_the_edge() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :, :] = np.arange(200, dtype=np.uint8)[None, :, None]  # grey ramp left to right
    crop = _core.face_crop(frame, (180, 40, 40, 40))  # half of the box lies beyond the right edge
    assert crop.shape == (112, 112)
    assert crop[0, 0] == 180  # the box starts at x = 180 (grey 180)
    assert np.all(crop[:, 60:] == 199)  # beyond x = 199: the edge column repeated
    assert np.all(np.diff(crop[0, :60].astype(int)) >= 0)


def test_no_sound_no_score(scene: dict) -> None:
    speaking, mouth, voice = _core.SpeakerScorer().score(scene["talker"], scene["times"], _core.AudioTrack(), FPS)
    assert np.all(speaking == -1) and np.all(mouth == -1) and np.all(voice == -1)


def test_sound_not_yet_known_is_not_scored(scene: dict, voice: tuple[np.ndarray, int]) -> None:
    speech, rate = voice
    audio = _core.AudioTrack()
    audio.push(speech[None, : rate * 2], "s16", rate, 0.0, channels=1)  # 2 s heard so far, stream still open
    speaking, _, _ = _core.SpeakerScorer().score(scene["talker"], scene["times"], audio, FPS)
    scored = scene["times"][speaking >= 0]
    assert len(scored) > 0 and scored.max() <= 2.0 - 0.25


def test_bad_crops_are_refused() -> None:
    with pytest.raises(ValueError, match="N x 112 x 112"):
        _core.SpeakerScorer().score(np.zeros((4, 64, 64), np.uint8), np.arange(4) / FPS, _core.AudioTrack(), FPS)
    with pytest.raises(ValueError, match="one time per crop"):
        _core.SpeakerScorer().score(np.zeros((4, 112, 112), np.uint8), np.arange(3) / FPS, _core.AudioTrack(), FPS)


def render_face_aside(opening: float, frame: int, rng: np.random.Generator) -> np.ndarray:
    """As render_face, but turned aside: eyes and mouth towards the box's right edge (a three-quarter view, as
    msdwild-00115's two women), the mouth where the fixed mouth region (columns 30..81) barely reaches."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    dx = 3 * np.sin(frame / 11.0)
    dy = 2 * np.sin(frame / 7.0)
    img = np.full((SIZE, SIZE), 50.0)
    img[((xx - 60 - dx) / 46) ** 2 + ((yy - 58 - dy) / 54) ** 2 <= 1] = 170
    for ex in (70, 98):
        img[((xx - ex - dx) / 6) ** 2 + ((yy - 38 - dy) / 4) ** 2 <= 1] = 40
    half_height = 1.5 + 9 * opening
    img[((xx - 92 - dx) / 12) ** 2 + ((yy - 84 - dy) / half_height) ** 2 <= 1] = 30
    img *= 1 + 0.04 * np.sin(frame / 5.0)
    img += rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


ASIDE_LANDMARKS = [70, 38, 98, 38, 86, 60, 80, 84, 104, 84]  # right eye, left eye, nose, mouth corners (crop px)


def test_landmarks_put_the_mouth_region_on_a_face_turned_aside(voice: tuple[np.ndarray, int], scene: dict) -> None:
    speech_samples, rate = voice
    times = scene["times"]
    samples, _ = soundtrack(speech_samples, rate, silence=2.0)
    loud = np.array([envelope(samples, rate, t) for t in times])
    opening = np.clip(loud / (np.percentile(loud, 90) + 1e-9), 0, 1)
    rng = np.random.default_rng(11)
    talker = np.stack([render_face_aside(o, i, rng) for i, o in enumerate(opening)])
    listener = np.stack([render_face_aside(0.0, i, rng) for i in range(len(times))])
    kps = np.tile(np.array(ASIDE_LANDMARKS, np.float32), (len(times), 1))
    scorer = _core.SpeakerScorer()
    talk, talk_z, _ = scorer.score(talker, times, scene["audio"], FPS, landmarks=kps)
    listen, _, _ = scorer.score(listener, times, scene["audio"], FPS, landmarks=kps)
    blind, blind_z, _ = scorer.score(talker, times, scene["audio"], FPS)  # fixed regions
    speech = scene["in_speech"]
    assert np.mean(talk[speech] > 0.5) > 0.8
    assert np.mean(listen[speech] < 0.5) > 0.95
    # Read where the fixed region puts the mouth, the same talker is a weaker speaker.
    assert np.median(talk_z[speech]) > np.median(blind_z[speech]) + 1
    # Landmarks of the wrong shape are refused.
    with pytest.raises(ValueError, match="N x 10"):
        scorer.score(talker, times, scene["audio"], FPS, landmarks=kps[:, :8])


def test_without_sound_the_moving_mouth_is_the_guess() -> None:
    # No sound at all (issue 25, stop 32): the same crops read by the mouth alone. A face whose mouth opens and
    # shuts as in speech (3-6 syllables a second) for 4 s, then stays shut 3 s; beside it a face whose mouth never
    # moves. The head sways and the light flickers on both (render_face).
    rng = np.random.default_rng(11)
    times = np.arange(int(7 * FPS)) / FPS
    opening = np.where(times < 4.0, np.clip(0.5 + 0.5 * np.sin(2 * np.pi * 4.3 * times) *
                                            np.sin(2 * np.pi * 0.7 * times + 0.4), 0, 1), 0.0)
    talker = np.stack([render_face(o, i, rng) for i, o in enumerate(opening)])
    still = np.stack([render_face(0.0, i, rng) for i in range(len(times))])
    scorer = _core.SpeakerScorer()
    talk, talk_z, ratio, opened = scorer.score_mouth(talker, times)
    quiet, quiet_z, _, _ = scorer.score_mouth(still, times)
    assert np.all(talk >= 0) and np.all(quiet >= 0)  # every crop has its +-0.5 s window (5 crops or more)
    moving = (times > 0.6) & (times < 3.4)
    shut = times > 4.6
    assert np.mean(talk[moving] > 0.5) > 0.9 and np.mean(quiet[moving] < 0.5) > 0.95
    assert np.median(talk_z[moving]) > np.median(quiet_z[moving]) + 2
    assert np.all(talk[shut] < 0.5)  # a mouth that stopped moving is no longer the guess
    assert np.all(ratio[moving] > 0) and np.all(opened[moving] > 0)
    # What the scorer with sound says of the same crops and no sound: nothing (the engine picks score_mouth).
    with_sound, _, _ = scorer.score(talker, times, _core.AudioTrack(), FPS)
    assert np.all(with_sound == -1)
    with pytest.raises(ValueError, match="N x 112 x 112"):
        scorer.score_mouth(np.zeros((4, 64, 64), np.uint8), np.arange(4) / FPS)
    with pytest.raises(ValueError, match="one time per crop"):
        scorer.score_mouth(np.zeros((4, 112, 112), np.uint8), np.arange(3) / FPS)


def test_engine_without_sound_guesses_by_the_mouth_when_asked(shared_data: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # msdwild-00115's first 10.4 s with no audio pushed (SOURCES.md: the left woman speaks to 5.9 s, the right one
    # 5.9-10.0 s). The engine reads SALCROP_MOUTH_GUESS when it is built. Off (the default): no face has a score,
    # as before. On: every face point it scored holds P(mouth), and each woman's mouth leads while she speaks.
    av = pytest.importorskip("av")
    clip = shared_data / "speakers" / "msdwild-00115" / "00115.mp4"
    runs = {}
    for guess in ("0", "1"):
        monkeypatch.setenv("SALCROP_MOUTH_GUESS", guess)
        decisions: list = []
        with av.open(str(clip)) as c:
            eng = None
            for i, f in enumerate(c.decode(video=0)):
                if i == 260:
                    break
                rgb = f.to_ndarray(format="rgb24")
                if eng is None:
                    eng = _core.Engine(rgb.shape[1], rgb.shape[0], 25.0, speakers="auto")
                    eng.audio_end()  # no sound at all (a file without an audio stream)
                eng.push_rgb(rgb, float(f.time))
                decisions += eng.pop()
            decisions += eng.flush()
        runs[guess] = (eng.describe(), decisions)
    off, on = runs["0"][1], runs["1"][1]
    assert len(off) == len(on) == 260
    assert all(face[5] == -1 for d in off for face in d.faces) and all(d.speaker is None for d in off)
    assert "moving mouth" in runs["1"][0] and "moving mouth" not in runs["0"][0]

    def mean_score(left: bool, t0: float, t1: float) -> float:
        s = [face[5] for d in on if t0 <= d.t < t1 for face in d.faces
             if (face[1] + face[3] / 2 < 640) == left and face[5] >= 0]
        assert len(s) > 0.8 * (t1 - t0) * 25
        return float(np.mean(s))

    assert mean_score(True, 0.5, 5.5) > mean_score(False, 0.5, 5.5) + 0.1
    assert mean_score(False, 6.5, 9.5) > mean_score(True, 6.5, 9.5) + 0.1
