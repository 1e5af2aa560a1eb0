"""The core's shot detector on real clips (decoded with PyAV), through `_core.ShotDetector`."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from salcrop_filter import _core



@pytest.fixture(scope="session")
def videos(shared_videos: Path) -> Path:
    """The real clips (conftest's shared_videos)."""
    return shared_videos


def detect(path: Path, **kwargs: float) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        detector = _core.ShotDetector(fps=float(stream.average_rate), **kwargs)
        for frame in container.decode(stream):
            detector.push_rgb(frame.to_ndarray(format="rgb24"))
    return detector.flush()


def test_testvideo_has_exactly_its_two_labelled_cuts(videos: Path) -> None:
    # testvideo.scenes.csv: three shots joined by fades through black, boundaries at frames 201 and 382.
    # The hard changes into and out of black (frames 30, 180, 394) are not shot boundaries.
    rows = [line.split(",") for line in (videos / "testvideo.scenes.csv").read_text().splitlines()]
    labelled = [int(float(r[2])) for r in rows if len(r) == 4 and r[0].isdigit() and float(r[2]) > 0]
    assert labelled == [201, 382]
    assert detect(videos / "testvideo.mp4") == labelled


def test_hard_cuts_on_bikes_match_pyscenedetect(videos: Path) -> None:
    # PySceneDetect 0.6 (detect-adaptive and detect-content) lists 1.2, 3.04, 5.48, 7.48, 9.68 s at 25 fps.
    assert detect(videos / "bikes.mp4") == [30, 76, 137, 187, 242]


def test_megamind_cuts(videos: Path) -> None:
    # PySceneDetect lists 4.129, 6.465, 8.383 s; its frame numbers are the AVI's pts, which start at 1.
    assert detect(videos / "Megamind.avi") == [98, 154, 200]


def test_continuous_shots_have_no_cut(videos: Path) -> None:
    # Fast motion (basketball) and a hand-held talking head are single shots.
    assert detect(videos / "basketball.mp4") == []
    assert detect(videos / "carphone_pristine.mp4") == []


def test_threshold_zero_disables_detection(videos: Path) -> None:
    assert detect(videos / "bikes.mp4", threshold=0.0) == []


def test_higher_threshold_finds_no_more_cuts(videos: Path) -> None:
    strict = detect(videos / "bikes.mp4", threshold=8.0)
    assert set(strict) <= {30, 76, 137, 187, 242}


def test_a_frame_of_another_size_is_refused() -> None:
    detector = _core.ShotDetector(fps=25.0)
    detector.push_rgb(np.zeros((90, 160, 3), np.uint8))
    with pytest.raises(ValueError, match="size"):
        detector.push_rgb(np.zeros((80, 160, 3), np.uint8))


@pytest.mark.parametrize("kwargs,option", [({"threshold": -1.0}, "scene_threshold"), ({"fps": 0.0}, "fps")])
def test_bad_detector_options(kwargs: dict, option: str) -> None:
    with pytest.raises(ValueError, match=option):
        _core.ShotDetector(**kwargs)


def test_hevc_gaze_clips_are_single_shots_apart_from_the_slides(shared_data: Path) -> None:
    # The hevc-gaze clips are single shots, except the slide changes of SlideEditing and SlideShow. BQTerrace's
    # file has one frame more than its gaze: that stray last frame starts no shot of its own.
    videos = shared_data / "hevc-gaze" / "videos"
    assert videos.is_dir(), f"{videos} is missing (the suite expects ../shared/data/hevc-gaze)"
    found = {}
    for clip in ("BQTerrace", "Couple", "BasketballPass", "Cactus"):
        found[clip] = detect(videos / f"{clip}.avi")
    assert found == {clip: [] for clip in found}
