"""The real-video gaze data (hevc-gaze) as the training and evaluation code read it, and the real-video crop
evaluation on one short clip through the real Engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from salcrop_filter.training import video_gaze


@pytest.fixture(scope="module")
def clips(shared_data: Path) -> list[video_gaze.GazeClip]:
    return video_gaze.load_clips()


def test_folds_hold_every_clip_once_with_a_moving_camera_each(clips) -> None:
    names = [n for fold in video_gaze.FOLDS for n in fold]
    assert sorted(names) == sorted(c.name for c in clips) and len(set(names)) == len(names) == 21
    moving = {c.name for c in clips if c.camera_moves}
    assert moving == {"BQMall", "BasketballPass", "BQTerrace"}
    assert all(len(moving & set(fold)) == 1 for fold in video_gaze.FOLDS)


def test_fixations_per_frame_are_the_viewers_of_that_moment(clips) -> None:
    couple = next(c for c in clips if c.name == "Couple")
    per = couple.all_points()
    assert len(per) == couple.frames == 150
    counts = np.array([len(p) for p in per])
    # 32 viewers, each fixating most of the time (saccades and blinks take the rest); a few recorded fixations of
    # one viewer overlap in time (4% in this clip), and each counts, as recorded.
    assert 20 <= counts.min() and 26 <= counts.mean() <= 31
    # A fixation is on frame i exactly when the middle of that frame's display interval is inside it.
    row = next(r for r in couple.fixations if r[2] > 2000 / couple.fps)
    first = int(np.ceil(row[1] * couple.fps / 1000 - 0.5))
    assert any(np.allclose(p, row[3:5]) for p in per[first])
    dense = couple.gaze_map(75, 36, 64)
    assert dense.shape == (36, 64) and abs(dense.sum() - 1) < 1e-5


def test_decoded_frames_match_the_listed_size_and_count(clips) -> None:
    bqterrace = next(c for c in clips if c.name == "BQTerrace")  # its file decodes 601 frames, its gaze 600
    n = sum(1 for _ in bqterrace.read_frames(size=(96, 54), step=50))
    assert n == 12
    frame = next(bqterrace.read_frames(size=(96, 54)))[1]
    assert frame.shape == (54, 96, 3) and frame.dtype == np.uint8 and frame.std() > 10


def test_bad_gaze_data_is_refused_with_its_reason(tmp_path) -> None:
    (tmp_path / "videos").mkdir()
    (tmp_path / "clips.csv").write_text("clip,width,height,fps,frames\nA,100,50,25,10\n")
    (tmp_path / "fixations.csv").write_text("clip,subject,start_ms,duration_ms,x,y\nA,1,0,100,120,10\n")
    with pytest.raises(ValueError, match="outside its 100x50 frame"):
        video_gaze.load_clips(tmp_path)
    (tmp_path / "fixations.csv").write_text("clip,subject,start_ms,duration_ms,x,y\nA,1,0,100,20,10\n")
    with pytest.raises(FileNotFoundError, match="no video for clip 'A'"):
        video_gaze.load_clips(tmp_path)
    with pytest.raises(ValueError, match="unknown clips"):
        video_gaze.load_clips(tmp_path, names=["B"])


def test_a_video_without_gaze_is_a_clip_for_the_teacher_alone(shared_videos, tmp_path) -> None:
    bikes = video_gaze.unlabeled_clip(shared_videos / "bikes.mp4")
    assert (bikes.name, bikes.width, bikes.height, bikes.frames) == ("bikes", 640, 272, 250)
    assert bikes.fps == pytest.approx(25.0)
    assert not bikes.camera_moves and all(len(p) == 0 for p in bikes.all_points())
    assert not bikes.gaze_map(10, 17, 40).any()  # an empty target: the training loss skips the frame
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(ValueError, match="notes.mp4"):
        video_gaze.unlabeled_clip(bad)


def test_real_video_crop_evaluation_through_the_engine(clips) -> None:
    from salcrop_filter.evaluation import crop_video

    from salcrop_filter.training import datasets

    lee = next(c for c in clips if c.name == "Lee")
    large = str(datasets.repo_root() / "models" / "salcrop-large.onnx")
    res = crop_video.evaluate([lee], ["9:16"], log=lambda m: None, large_fold_models=[large] * 3)
    s = res.scores["9:16"]
    # The per-frame oracle is a ceiling for every window of the same size; the planner fed the viewers' own gaze
    # keeps more than a window that ignores the picture.
    for method in (crop_video.ENGINE, crop_video.ENGINE_LARGE, crop_video.GAZE_PLANNER, crop_video.CENTRE):
        assert s[method].kept <= s[crop_video.ORACLE].kept + 1e-9
    assert s[crop_video.GAZE_PLANNER].kept > s[crop_video.CENTRE].kept
    for engine in (crop_video.ENGINE, crop_video.ENGINE_LARGE):  # each Engine row: a window and a mode per frame
        assert s[engine].kept_frames == lee.frames and sum(s[engine].mode_frames.values()) == lee.frames
    assert "salcrop, large model (Engine) − centre at 9:16" in "\n".join(crop_video.render_markdown(res))
    assert res.cuts["Lee"] == []  # one shot


def test_best_window_per_frame_holds_the_maps_mass() -> None:
    from salcrop_filter.evaluation.crop_ceiling import best_windows

    maps = np.full((3, 9, 16), 1e-6, np.float32)
    maps[0, 4, 1] = maps[1, 4, 8] = maps[2, 4, 15] = 1.0  # all the mass in one cell: left, middle, right
    win = best_windows(maps, 1280, 720, 404, 720)
    for t, cell in enumerate((1, 8, 15)):
        centre_x = (cell + 0.5) * 1280 / 16
        assert win[t, 0] <= centre_x <= win[t, 0] + 404 and win[t, 1] == 0 and tuple(win[t, 2:]) == (404, 720)


@pytest.mark.needs_shared
def test_crop_ceiling_splits_the_loss_between_map_and_path(capsys) -> None:
    from salcrop_filter.evaluation import crop_ceiling

    from salcrop_filter.training import datasets

    model = str(datasets.repo_root() / "models" / "salcrop-int8.onnx")
    assert crop_ceiling.main(["--fold-models", ",".join([model] * 3), "--clips", "Lee"]) == 0
    table = {line.split("|")[1].strip(): float(line.split("|")[2].strip(" %"))
             for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "%" in line}
    assert set(table) == {"model: planner", "model: best window per frame", "gaze: planner",
                          "gaze: best window per frame", "centre"}
    # The viewers' own gaze, window by window, is the best a map can do; on this interview it beats the centre.
    assert table["gaze: best window per frame"] >= max(table.values()) - 1e-9
    assert table["gaze: best window per frame"] > table["centre"] + 3
    # Without fold models it runs the shipped model on every clip and says that this is not held out.
    assert crop_ceiling.main(["--clips", "Lee"]) == 0
    assert "not held out" in capsys.readouterr().out


def test_crop_eval_refuses_fold_model_lists_it_cannot_use(capsys) -> None:
    from salcrop_filter.evaluation.crop import main

    for argv, says in ((["--large-fold-models", "a.onnx,b.onnx"], "needs 3 models, one per fold, got 2"),
                       (["--fold-models", "a.onnx,b.onnx,c.onnx"], "a.onnx does not exist")):
        with pytest.raises(SystemExit) as e:
            main(["--real-video", *argv])
        assert e.value.code == 2 and says in capsys.readouterr().err
