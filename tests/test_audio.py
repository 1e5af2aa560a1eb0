"""The core's sound (csrc/src/audio.cpp) through _core.AudioTrack: every sample format and layout FFmpeg gives,
mixed down to mono and resampled to 16 kHz once, on the blocks' clock; gaps are silence, overlaps keep what came
first, bad blocks are refused with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from salcrop_filter import _core

RATE = _core.AUDIO_RATE


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(rate * seconds))) / rate
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float64)


def dominant_frequency(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * rate / len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def push_blocks(track: _core.AudioTrack, planes: np.ndarray, fmt: str, rate: int, t0: float = 0.0,
                block: int = 1024) -> None:
    """Pushes a (channels, samples) float signal in blocks of `block` samples, as `fmt` (PyAV's layout)."""
    channels, n = planes.shape
    for start in range(0, n, block):
        part = planes[:, start:start + block]
        data = encode(part, fmt)
        track.push(data, fmt, rate, t0 + start / rate, channels=channels)


def encode(planes: np.ndarray, fmt: str) -> np.ndarray:
    """(channels, samples) floats in -1..1 as PyAV's to_ndarray() gives format fmt."""
    base = fmt.rstrip("p")
    if base == "u8":
        v = np.clip(np.round(planes * 128 + 128), 0, 255).astype(np.uint8)
    elif base == "s16":
        v = np.clip(np.round(planes * 32768), -32768, 32767).astype(np.int16)
    elif base == "s32":
        v = np.clip(np.round(planes * 2**31), -2**31, 2**31 - 1).astype(np.int32)
    elif base == "s64":
        v = (planes * 2.0**62).astype(np.int64) * 2
    elif base == "flt":
        v = planes.astype(np.float32)
    else:
        v = planes.astype(np.float64)
    if fmt.endswith("p"):
        return np.ascontiguousarray(v)
    return np.ascontiguousarray(v.T).reshape(1, -1)  # interleaved, one row


def test_sine_44k1_stereo_planar_float_keeps_frequency_and_level() -> None:
    track = _core.AudioTrack()
    left = sine(440, 44100, 2.0, amp=0.5)
    right = sine(440, 44100, 2.0, amp=0.5)
    push_blocks(track, np.stack([left, right]), "fltp", 44100)
    track.end()
    out = track.samples(0.5, 1.5)
    assert len(out) == RATE
    assert abs(dominant_frequency(out, RATE) - 440) <= 1.5
    assert rms(out) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    # The resampled sine is the sine at 16 kHz (a windowed sinc, not nearest neighbour): error below -50 dB.
    ideal = sine(440, RATE, 2.0, amp=0.5)[RATE // 2:RATE // 2 + RATE]
    assert rms(out - ideal) < 0.5 * 10 ** (-50 / 20)


def test_frequencies_above_8k_are_removed() -> None:
    track = _core.AudioTrack()
    x = sine(11000, 48000, 1.0, amp=0.5)  # above the 16 kHz output's Nyquist: must not alias to 5 kHz
    push_blocks(track, x[None, :], "flt", 48000)
    track.end()
    assert rms(track.samples(0.2, 0.8)) < 0.5 * 10 ** (-60 / 20)


@pytest.mark.parametrize("fmt", ["u8", "s16", "s32", "s64", "flt", "dbl", "u8p", "s16p", "s32p", "s64p", "fltp", "dblp"])
def test_every_sample_format(fmt: str) -> None:
    track = _core.AudioTrack()
    x = sine(1000, 32000, 1.0, amp=0.4)
    push_blocks(track, np.stack([x, -x * 0 + x]), fmt, 32000)  # two equal channels: the mix is the sine
    track.end()
    out = track.samples(0.25, 0.75)
    assert abs(dominant_frequency(out, RATE) - 1000) <= 2
    assert rms(out) == pytest.approx(0.4 / np.sqrt(2), rel=0.02 if fmt.startswith("u8") else 0.005)


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000])
def test_rates_8k_to_192k(rate: int) -> None:
    track = _core.AudioTrack()
    push_blocks(track, sine(300, rate, 1.0, amp=0.3)[None, :], "s16", rate, t0=2.0)
    track.end()
    out = track.samples(2.2, 2.8)
    assert abs(dominant_frequency(out, RATE) - 300) <= 2
    assert rms(out) == pytest.approx(0.3 / np.sqrt(2), rel=0.01)
    # Nothing before the first block: silence, not a ramp from garbage.
    assert not np.any(track.samples(0.0, 1.99))


def test_5_1_s16_block_is_mixed_down() -> None:
    track = _core.AudioTrack()
    n = 48000
    planes = np.zeros((6, n))
    planes[2] = sine(500, 48000, 1.0, amp=0.6)  # centre channel only
    track.push(encode(planes, "s16"), "s16", 48000, 0.0, channels=6)
    track.end()
    out = track.samples(0.2, 0.8)
    assert abs(dominant_frequency(out, RATE) - 500) <= 2
    assert rms(out) == pytest.approx(0.6 / 6 / np.sqrt(2), rel=0.01)  # the six channels averaged


def test_gap_is_silence_and_times_are_the_blocks() -> None:
    track = _core.AudioTrack()
    x = sine(440, 48000, 0.5, amp=0.5)
    track.push(encode(x[None, :], "flt"), "flt", 48000, 1.0, channels=1)
    track.push(encode(x[None, :], "flt"), "flt", 48000, 3.0, channels=1)  # 1.5 s of nothing between
    track.end()
    assert rms(track.samples(1.05, 1.45)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert np.max(np.abs(track.samples(1.51, 2.99))) < 1e-3
    assert rms(track.samples(3.05, 3.45)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert not np.any(track.samples(3.6, 5.0))
    # Onsets where the blocks say: the first sample above 0.05 lies within 1 ms of 1.0 s and of 3.0 s.
    s = track.samples(0.0, 4.0)
    loud = np.flatnonzero(np.abs(s) > 0.05)
    assert abs(loud[0] / RATE - 1.0) < 0.001
    second = loud[loud > int(2 * RATE)]
    assert abs(second[0] / RATE - 3.0) < 0.001


def test_overlap_keeps_what_came_first() -> None:
    track = _core.AudioTrack()
    a = sine(440, 16000, 1.0, amp=0.5)
    b = sine(2000, 16000, 1.0, amp=0.5)
    track.push(encode(a[None, :], "flt"), "flt", 16000, 0.0)
    track.push(encode(b[None, :], "flt"), "flt", 16000, 0.5)  # its first half overlaps a's second half
    track.end()
    assert abs(dominant_frequency(track.samples(0.1, 0.49), RATE) - 440) <= 5
    assert abs(dominant_frequency(track.samples(1.01, 1.49), RATE) - 2000) <= 5


def test_small_pts_jitter_continues_the_stream() -> None:
    # AAC frames whose times are rounded to the stream's time base: no click, no gap at each block.
    track = _core.AudioTrack()
    x = sine(440, 44100, 2.0, amp=0.5)
    for start in range(0, len(x), 1024):
        t = round(start / 44100, 3)  # millisecond time base
        track.push(encode(x[None, start:start + 1024], "fltp"), "fltp", 44100, t)
    track.end()
    out = track.samples(0.2, 1.8)
    ideal = sine(440, RATE, 2.0, amp=0.5)[int(0.2 * RATE):int(1.8 * RATE)]
    assert rms(out - ideal) < 0.01


def test_known_until_and_end() -> None:
    track = _core.AudioTrack()
    assert track.known_until == -np.inf and not track.any
    track.push(encode(sine(440, 48000, 1.0)[None, :], "flt"), "flt", 48000, 0.0)
    assert track.any
    assert 0.99 < track.known_until <= 1.0
    track.end()
    assert track.known_until == np.inf and track.ended
    with pytest.raises(ValueError, match="after the end"):
        track.push(encode(sine(440, 48000, 0.1)[None, :], "flt"), "flt", 48000, 2.0)


def test_drop_before_bounds_memory() -> None:
    track = _core.AudioTrack()
    x = encode(sine(440, 48000, 1.0)[None, :], "s16")
    for second in range(60):
        track.push(x, "s16", 48000, float(second))
        track.drop_before(second - 2.0)
    assert track.stored < 4 * RATE
    assert not np.any(track.samples(0.0, 50.0))  # dropped: silence
    assert rms(track.samples(58.2, 58.8)) > 0.3


@pytest.mark.parametrize("args, message", [
    ((np.zeros((2, 100), np.float32), "fltp", 4000, 0.0), "sample rate 4000 Hz is outside 8000 .. 192000"),
    ((np.zeros((2, 100), np.float32), "fltp", 400000, 0.0), "outside 8000 .. 192000"),
    ((np.zeros((65, 100), np.float32), "fltp", 48000, 0.0), "65 channels"),
    ((np.zeros((1, 100), np.float32), "flt", 48000, float("nan")), "not a usable time"),
    ((np.zeros((1, 100), np.int16), "flt", 48000, 0.0), "must be a numpy array of float32"),
    ((np.zeros((1, 100), np.float32), "f32", 48000, 0.0), "unknown sample format 'f32'"),
    ((np.zeros((1, 101), np.int16), "s16", 48000, 0.0, 2), "not a whole number of 2-channel frames"),
    ((np.zeros((2, 100), np.int16), "s16", 48000, 0.0, 2), "one interleaved row"),
    ((np.zeros((2, 100), np.int16), "s16p", 48000, 0.0, 3), "2 planes for 3 channels"),
])
def test_bad_blocks_are_refused(args: tuple, message: str) -> None:
    track = _core.AudioTrack()
    with pytest.raises(ValueError, match=message):
        track.push(*args)
    assert not track.any


def test_nan_samples_become_silence() -> None:
    track = _core.AudioTrack()
    x = np.full((1, 4800), np.nan, np.float32)
    track.push(x, "flt", 48000, 0.0)
    track.end()
    out = track.samples(0.0, 0.1)
    assert np.all(np.isfinite(out)) and not np.any(out)


def test_engine_takes_audio() -> None:
    engine = _core.Engine(320, 180, 25.0)
    engine.push_audio(encode(sine(440, 44100, 0.5)[None, :], "fltp"), "fltp", 44100, 0.0)
    with pytest.raises(ValueError, match="not a whole number of 4-channel frames"):
        engine.push_audio(np.zeros((1, 30), np.float32), "flt", 44100, 0.5, channels=4)
    engine.audio_end()
    frame = np.zeros((180, 320, 3), np.uint8)
    for i in range(10):
        engine.push_rgb(frame, i / 25)
    assert len(engine.flush()) == 10
