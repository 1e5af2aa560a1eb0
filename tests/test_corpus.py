"""The unlabeled distillation corpus: its split by source repository and what the teacher pass needs to read it."""

from __future__ import annotations

import numpy as np
import pytest

from salcrop_filter.training import corpus, teacher


@pytest.fixture(autouse=True)
def corpus_data(shared_data):
    """Every test here reads the corpus in conftest's shared_data (the package finds it through SALCROP_DATA)."""
    return shared_data / "unlabeled-videos"


def test_kept_out_part_is_a_third_of_the_corpus_split_by_source_repository():
    clips = corpus.load_clips()
    train, kept = corpus.split(clips)
    assert len(train) + len(kept) == len(clips) == 112
    assert not {c.source_repo for c in train} & {c.source_repo for c in kept}, "a repository on both sides"
    assert abs(len(kept) - len(clips) / 3) <= 1
    assert set(corpus.KEPT_OUT_REPOS) == {c.source_repo for c in kept}, "a kept-out repository has no clip"


def test_stored_kept_out_list_is_what_its_documented_rule_draws_from_clips_csv():
    """A changed clips.csv that would move a repository between the parts fails here instead of silently."""
    assert corpus.draw_kept_out(corpus.load_clips()) == corpus.KEPT_OUT_REPOS


def test_every_clip_opens_even_with_metadata_that_is_not_utf8():
    """017_vc_5360763.mp4 carries Latin-1 tags that PyAV's strict default refuses before reading a frame."""
    for c in corpus.load_clips():
        with teacher.open_video(c.path) as container:
            st = container.streams.video[0]
            assert (st.codec_context.width, st.codec_context.height) == (c.width, c.height), c.name


def test_a_corpus_clip_trains_on_the_teachers_capped_maps():
    """Training material from the corpus: cut to what the teacher mapped, its targets the cached (capped) maps."""
    from salcrop_filter.training.video_train import clip_tensors

    clip = next(c for c in corpus.load_clips() if c.name == "032_carnd_vehdet")
    tm = corpus.teacher_maps(clip)  # computed once if not cached (38 frames, every 4th: 10 maps)
    g = corpus.gaze_clip(clip)
    assert g.frames == 38 and g.teacher_max_maps == corpus.TEACHER_MAPS_PER_CLIP and len(tm.frames) == 10
    t = clip_tensors(g, (112, 200), (14, 25))  # no teacher network: the maps must come from the cache
    assert len(t.frames) == len(t.teacher) > 0
    assert np.allclose(t.teacher.flatten(1).sum(1).numpy(), 1.0, atol=1e-4)
    assert float(t.counts.sum()) == 0.0  # no gaze: the teacher is the only target
