// salcrop_filter._core's audio: numpy blocks as PyAV gives them (AudioFrame.to_ndarray(): planar formats one row
// per channel, packed ones one interleaved row) borrowed as a SalcropAudio; the AudioTrack class for tests.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "salcrop/salcrop.h"

namespace salcrop {

// A borrowed view of a numpy block: `block` points into `array` (kept alive here) while this lives.
struct PyAudioBlock {
    // format: FFmpeg's name ("s16", "fltp", ...); the array's dtype must be the format's (uint8, int16, int32,
    // int64, float32, float64). Planar: shape (channels, samples). Packed: (1, samples * channels) or
    // (samples * channels,), with channels given. channels 0 = the rows of a planar array, 1 for packed.
    PyAudioBlock(const pybind11::array &samples, const std::string &format, int sample_rate, int channels);
    pybind11::array array;
    std::vector<const uint8_t *> planes;
    SalcropAudio block{};
};

void def_audio(pybind11::module_ &m);

}  // namespace salcrop
