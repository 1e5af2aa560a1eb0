"""What goes in comes out: the CLI and reframe() keep what the source says about its pictures and its file.

One input made here by build/bin/ffmpeg from 24 frames of a real clip (bikes.mp4: conftest's real_clip): 10-bit
HEVC, BT.2020 primaries, PQ transfer, BT.2020 non-constant matrix, limited range, HDR10 mastering display and light
levels (x265's SEI), an AAC audio track, a mov_text subtitle with its language, and a title. Through
``salcrop IN -o OUT --codec libx265`` each property is checked on its own, by ffprobe, against the input's; then an
8-bit BT.709 full-range input through reframe() with the default encoder, and a 10-bit one through libx264.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

FRAMES = 24
MASTER = "G(8500,39850)B(6550,2300)R(35400,14600)WP(15635,16450)L(10000000,50)"
SUBTITLES = "1\n00:00:00,000 --> 00:00:00,500\nHello from the source\n"


def ff(ffmpeg: Path, *args: object) -> None:
    r = subprocess.run([str(ffmpeg), "-hide_banner", "-nostdin", "-y", "-v", "error", *map(str, args)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def probe(ffprobe: Path, path: Path, *args: str) -> dict:
    r = subprocess.run([str(ffprobe), "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def streams(ffprobe: Path, path: Path) -> dict[str, dict]:
    info = probe(ffprobe, path, "-show_streams", "-show_format")
    out = {s["codec_type"]: s for s in info["streams"]}
    out["format"] = info["format"]
    return out


def first_frame(ffprobe: Path, path: Path) -> dict:
    return probe(ffprobe, path, "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_frames")["frames"][0]


def frame_times(ffprobe: Path, path: Path) -> list[str]:
    info = probe(ffprobe, path, "-select_streams", "v:0", "-show_entries", "frame=pts_time")
    return [f["pts_time"] for f in info["frames"]]


@pytest.fixture(scope="module")
def hdr_source(ffmpeg: Path, real_clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("look")
    srt = d / "in.srt"
    srt.write_text(SUBTITLES)
    dst = d / "hdr10.mp4"
    ff(ffmpeg, "-i", real_clip("bikes.mp4"), "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
       "-i", srt, "-map", "0:v", "-map", "1:a", "-map", "2:s", "-frames:v", FRAMES, "-t", FRAMES / 25,
       # setparams tags the frames (ffmpeg 7.1 takes the encoder's primaries and transfer from them, not from
       # -color_primaries/-color_trc), format makes them 10-bit
       "-vf", "setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc:range=tv,format=yuv420p10le",
       "-c:v", "libx265", "-preset", "ultrafast",
       "-x265-params", f"log-level=error:hdr10=1:master-display={MASTER}:max-cll=1000,400",
       "-tag:v", "hvc1", "-c:a", "aac", "-c:s", "mov_text", "-metadata:s:s:0", "language=fra",
       "-metadata", "title=salcrop look test", dst)
    return dst


@pytest.fixture(scope="module")
def hdr_out(hdr_source: Path) -> Path:
    from salcrop_filter.cli import main

    out = hdr_source.with_name("out.mp4")
    assert main([str(hdr_source), "-o", str(out), "--codec", "libx265", "-q"]) == 0
    return out


def test_the_source_is_what_the_test_says(ffprobe: Path, hdr_source: Path) -> None:
    s = streams(ffprobe, hdr_source)
    assert s["video"]["pix_fmt"] == "yuv420p10le" and s["video"]["color_transfer"] == "smpte2084"
    assert s["video"]["color_primaries"] == "bt2020" and s["subtitle"]["tags"]["language"] == "fra"
    kinds = {sd["side_data_type"] for sd in first_frame(ffprobe, hdr_source).get("side_data_list", [])}
    assert {"Mastering display metadata", "Content light level metadata"} <= kinds, kinds


def test_bit_depth_stays_10_bit(ffprobe: Path, hdr_out: Path) -> None:
    v = streams(ffprobe, hdr_out)["video"]
    assert v["pix_fmt"] == "yuv420p10le" and v["codec_name"] == "hevc"


def test_colour_tags_stay(ffprobe: Path, hdr_source: Path, hdr_out: Path) -> None:
    keys = ("color_primaries", "color_transfer", "color_space", "color_range")
    src, out = streams(ffprobe, hdr_source)["video"], streams(ffprobe, hdr_out)["video"]
    assert {k: out.get(k) for k in keys} == {k: src.get(k) for k in keys} == {
        "color_primaries": "bt2020", "color_transfer": "smpte2084", "color_space": "bt2020nc", "color_range": "tv"}


def test_hdr_mastering_display_and_light_levels_stay(ffprobe: Path, hdr_source: Path, hdr_out: Path) -> None:
    def hdr(path: Path) -> dict[str, dict]:
        return {sd["side_data_type"]: {k: v for k, v in sd.items() if k != "side_data_type"}
                for sd in first_frame(ffprobe, path).get("side_data_list", [])
                if sd["side_data_type"] in ("Mastering display metadata", "Content light level metadata")}

    src, out = hdr(hdr_source), hdr(hdr_out)
    assert len(src) == 2 and out == src, (src, out)
    assert out["Content light level metadata"] == {"max_content": 1000, "max_average": 400}


def test_frames_and_timestamps_stay(ffprobe: Path, hdr_source: Path, hdr_out: Path) -> None:
    assert frame_times(ffprobe, hdr_out) == frame_times(ffprobe, hdr_source)
    assert len(frame_times(ffprobe, hdr_out)) == FRAMES
    assert streams(ffprobe, hdr_out)["video"]["r_frame_rate"] == streams(ffprobe, hdr_source)["video"]["r_frame_rate"]


def test_audio_stays(ffprobe: Path, hdr_source: Path, hdr_out: Path) -> None:
    src, out = streams(ffprobe, hdr_source)["audio"], streams(ffprobe, hdr_out)["audio"]
    assert (out["codec_name"], out["sample_rate"], out["channels"]) == (src["codec_name"], src["sample_rate"],
                                                                      src["channels"])


def test_subtitles_stay_with_their_language(ffprobe: Path, hdr_out: Path, tmp_path: Path, ffmpeg: Path) -> None:
    s = streams(ffprobe, hdr_out)["subtitle"]
    assert s["codec_name"] == "mov_text" and s["tags"]["language"] == "fra"
    ff(ffmpeg, "-i", hdr_out, "-map", "0:s:0", tmp_path / "back.srt")
    assert "Hello from the source" in (tmp_path / "back.srt").read_text()


def test_container_metadata_stays(ffprobe: Path, hdr_out: Path) -> None:
    assert streams(ffprobe, hdr_out)["format"]["tags"]["title"] == "salcrop look test"


def test_8_bit_bt709_full_range_through_reframe(ffmpeg: Path, ffprobe: Path, real_clip, tmp_path: Path) -> None:
    from salcrop_filter import reframe

    src = tmp_path / "bt709.mp4"
    ff(ffmpeg, "-i", real_clip("bikes.mp4"), "-frames:v", FRAMES, "-an", "-vf",
       "scale=out_range=pc,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=pc,format=yuv420p",
       "-c:v", "libx264", "-preset", "ultrafast", src)
    reframe(src, tmp_path / "out.mp4", "1:1")
    v = streams(ffprobe, tmp_path / "out.mp4")["video"]
    assert (v["color_primaries"], v["color_transfer"], v["color_space"], v["color_range"]) == (
        "bt709", "bt709", "bt709", "pc")


def test_10_bit_through_the_default_encoder(ffprobe: Path, hdr_source: Path, tmp_path: Path) -> None:
    """libx264 takes 10-bit 4:2:0 too: the default encoder of .mp4 keeps the depth."""
    from salcrop_filter import reframe

    reframe(hdr_source, tmp_path / "h264.mp4", "9:16", audio=False)
    v = streams(ffprobe, tmp_path / "h264.mp4")["video"]
    assert v["codec_name"] == "h264" and v["pix_fmt"] == "yuv420p10le" and v["color_space"] == "bt2020nc"


@pytest.mark.parametrize("space,luma", [(1, 63), (5, 81), (6, 81), (9, 74), (2, 81)])
def test_rgb_pictures_are_written_in_the_sources_matrix(space: int, luma: int) -> None:
    """Padded, fitted and 360° pictures are rgb: pure red becomes the luma of the source's matrix (BT.709
    0.2126, BT.601 0.299, BT.2020 0.2627; limited range: 16 + 219 x), not always BT.601's."""
    import av
    import numpy as np

    from salcrop_filter.writer import rgb_to_yuv

    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255
    out = rgb_to_yuv(av.VideoFrame.from_ndarray(red, format="rgb24"), "yuv420p", space, full_range=False)
    assert np.frombuffer(out.planes[0], np.uint8)[0] == luma


def test_tags_that_are_not_utf8(ffmpeg: Path, tmp_path: Path) -> None:
    """A title in Latin-1 and a handler name cut mid-character (a real clip of the corpus has one): PyAV's strict
    default raised UnicodeDecodeError, a traceback out of `salcrop`; now every frame comes out and the tags are
    kept with U+FFFD where the bytes were not UTF-8, as the editor reads them."""
    import av

    from salcrop_filter import reframe

    src = tmp_path / "latin1.mp4"
    subprocess.run([str(ffmpeg), "-hide_banner", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=d=1:s=320x180:r=25", "-c:v", "libx264", "-preset", "ultrafast", "-metadata:s:v:0",
                    "handler_name=\u03bb".encode() + b"\xce", "-metadata", b"title=caf\xe9", str(src)],
                   check=True, capture_output=True, timeout=300)  # bytes: arguments that are not UTF-8
    with pytest.raises(UnicodeDecodeError):  # what the front ends met before
        av.open(str(src)).close()
    path = reframe(src, tmp_path / "out.mp4", "9:16")
    assert len(path.frames) == 25
    with av.open(str(tmp_path / "out.mp4"), metadata_errors="replace") as c:
        assert c.metadata["title"] == "caf\ufffd"
        assert sum(1 for _ in c.decode(video=0)) == 25
