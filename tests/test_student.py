"""The distilled student (training/student.py): its encoder keeps the teacher's layers it takes, and the contract."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from salcrop_filter.training.model import ModelConfig, SalCropNet
from salcrop_filter.training.student import STUDENT, init_from_teacher, run_sequence


def _teacher() -> SalCropNet:
    torch.manual_seed(0)
    net = SalCropNet(ModelConfig())
    # Random batch-norm statistics, so a layer taken from the wrong place shows in the outputs.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def test_a_student_with_every_block_is_the_teacher():
    teacher = _teacher()
    student = SalCropNet(dataclasses.replace(ModelConfig(), encoder_depth=0)).eval()
    init_from_teacher(student, teacher)
    x = torch.rand(3, 2, 3, 112, 200)
    for a, b in zip(run_sequence(teacher, x), run_sequence(student, x)):
        assert torch.equal(a, b)


def test_the_student_encoder_keeps_each_stage_first_block_with_its_weights():
    teacher = _teacher()
    config = STUDENT
    assert (config.encoder_depth, config.motion_stride, config.input_height, config.input_width) == (1, 8, 112, 200)
    student = SalCropNet(config).eval()
    init_from_teacher(student, teacher)
    enc = student.encoder
    # The stem, then the first block of each of MobileNetV2's seven stages (torchvision's indices).
    assert enc.source_indices() == (0, 1, 2, 4, 7, 11, 14, 17)
    assert teacher.encoder.taps == (6, 13, 17) and enc.taps == (3, 5, 7)
    for mine, theirs in enumerate(enc.source_indices()):
        a, b = enc.features[mine].state_dict(), teacher.encoder.features[theirs].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # Everything outside the encoder is the teacher's as it is.
    outside = {k: v for k, v in teacher.state_dict().items() if not k.startswith("encoder.")}
    mine = student.state_dict()
    assert all(torch.equal(mine[k], v) for k, v in outside.items())
    # The taps keep their strides and widths, so the maps keep the contract's size and sum to 1.
    feats = enc(torch.rand(1, 3, 112, 200))
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 14, 25), (96, 7, 13), (320, 4, 7)]
    sal, state = student(torch.rand(2, 3, 112, 200), torch.rand(2, 3, 112, 200), student.zero_state(2))
    assert sal.shape == (2, 1, 14, 25) and state.shape == (2, 16, 14, 25)
    assert torch.allclose(sal.sum((1, 2, 3)), torch.ones(2))


def test_a_student_refuses_weights_that_do_not_fit():
    with pytest.raises(ValueError, match="encoder_depth"):
        SalCropNet(dataclasses.replace(ModelConfig(), encoder_depth=5))
    with pytest.raises(ValueError, match="ImageNet"):
        SalCropNet(STUDENT, imagenet=True)
    large = SalCropNet(ModelConfig.preset("large"))
    small = SalCropNet(ModelConfig())
    # Same weights' shapes at either motion stride: a large teacher fits; a wider state would not.
    init_from_teacher(small, large)
    wide = SalCropNet(dataclasses.replace(ModelConfig(), state_channels=8))
    with pytest.raises(ValueError, match="gru"):
        init_from_teacher(wide, small)
