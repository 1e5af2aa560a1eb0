#include "python_audio.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "audio.h"
#include "speakers.h"
#include "tracks.h"

namespace py = pybind11;

namespace salcrop {

namespace {

py::dtype format_dtype(SalcropSampleFormat f)
{
    switch (f) {
    case SALCROP_SAMPLE_U8: case SALCROP_SAMPLE_U8P: return py::dtype::of<uint8_t>();
    case SALCROP_SAMPLE_S16: case SALCROP_SAMPLE_S16P: return py::dtype::of<int16_t>();
    case SALCROP_SAMPLE_S32: case SALCROP_SAMPLE_S32P: return py::dtype::of<int32_t>();
    case SALCROP_SAMPLE_S64: case SALCROP_SAMPLE_S64P: return py::dtype::of<int64_t>();
    case SALCROP_SAMPLE_FLT: case SALCROP_SAMPLE_FLTP: return py::dtype::of<float>();
    default: return py::dtype::of<double>();
    }
}

using CropArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using TimeArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// One face track's crops as SpeakerScorer::score and score_mouth read them: N x 112 x 112 grey crops at `times`,
// with the optional N x 10 landmarks (crop pixels; a row with a NaN has none).
std::vector<FaceCrop> track_crops(const CropArray &crops, const TimeArray &times, const py::object &landmarks)
{
    if (crops.ndim() != 3 || crops.shape(1) != kFaceCropSize || crops.shape(2) != kFaceCropSize)
        throw std::invalid_argument("crops must be N x 112 x 112 uint8 (grey face boxes)");
    if (times.ndim() != 1 || times.shape(0) != crops.shape(0))
        throw std::invalid_argument("times must hold one time per crop");
    const size_t n = size_t(crops.shape(0)), bytes = size_t(kFaceCropSize) * kFaceCropSize;
    std::vector<FaceCrop> list(n);
    for (size_t i = 0; i < n; ++i) {
        list[i].frame = int64_t(i);
        list[i].t = times.at(py::ssize_t(i));
        list[i].grey.assign(crops.data() + i * bytes, crops.data() + (i + 1) * bytes);
    }
    if (!landmarks.is_none()) {
        const auto kps = landmarks.cast<py::array_t<float, py::array::c_style | py::array::forcecast>>();
        if (kps.ndim() != 2 || kps.shape(0) != crops.shape(0) || kps.shape(1) != 10)
            throw std::invalid_argument("landmarks must be N x 10 (crop pixels; NaN rows: none)");
        for (size_t i = 0; i < n; ++i) {
            std::copy_n(kps.data() + i * 10, 10, list[i].kps);
            list[i].landmarks = std::all_of(list[i].kps, list[i].kps + 10, [](float v) { return std::isfinite(v); });
        }
    }
    return list;
}

// What a scorer call gave one track's crops, as float32 arrays of N (score_mouth leaves voice unset: -1 there).
struct TrackScores {
    py::array_t<float> speaking, mouth, voice, ratio, opening;
};

// Runs `run(track, crops, evidence)` (SpeakerScorer::score or score_mouth) on one track's crops without the GIL
// and packs its per-crop results.
template <typename Run>
TrackScores score_track(const CropArray &crops, const TimeArray &times, const py::object &landmarks, Run run)
{
    const std::vector<FaceCrop> list = track_crops(crops, times, landmarks);
    const size_t n = list.size();
    Track track;
    track.points.resize(n);
    std::vector<SpeakerEvidence> ev;
    {
        py::gil_scoped_release release;
        run(track, list, ev);
    }
    const py::ssize_t len = py::ssize_t(n);
    TrackScores out{py::array_t<float>(len), py::array_t<float>(len), py::array_t<float>(len),
                    py::array_t<float>(len), py::array_t<float>(len)};
    for (size_t i = 0; i < n; ++i) {
        const py::ssize_t k = py::ssize_t(i);
        out.speaking.mutable_at(k) = track.points[i].speaking;
        out.mouth.mutable_at(k) = ev[i].mouth;
        out.voice.mutable_at(k) = ev[i].voice;
        out.ratio.mutable_at(k) = ev[i].ratio;
        out.opening.mutable_at(k) = ev[i].opening;
    }
    return out;
}

}  // namespace

PyAudioBlock::PyAudioBlock(const py::array &samples, const std::string &format, int sample_rate, int channels)
{
    const SalcropSampleFormat f = sample_format_from_name(format);
    const py::dtype want = format_dtype(f);
    if (!samples.dtype().equal(want))
        throw std::invalid_argument("audio: a " + format + " block must be a numpy array of " +
                                    std::string(py::str(want)) + ", not " + std::string(py::str(samples.dtype())));
    array = py::array::ensure(samples, py::array::c_style);
    if (!array)
        throw std::invalid_argument("audio: the samples are not a contiguous array");
    const auto *base = static_cast<const uint8_t *>(array.data());
    if (sample_format_planar(f)) {
        if (array.ndim() != 2)
            throw std::invalid_argument("audio: a planar (" + format + ") block must be channels x samples");
        const int rows = int(array.shape(0));
        if (channels != 0 && channels != rows)
            throw std::invalid_argument("audio: " + std::to_string(rows) + " planes for " +
                                        std::to_string(channels) + " channels");
        channels = rows;
        block.nb_samples = int(std::min<py::ssize_t>(array.shape(1), py::ssize_t(kAudioMaxBlock) + 1));
        for (int c = 0; c < rows; ++c)
            planes.push_back(base + size_t(c) * size_t(array.strides(0)));
    } else {
        if (array.ndim() > 2 || (array.ndim() == 2 && array.shape(0) != 1))
            throw std::invalid_argument("audio: a packed (" + format +
                                        ") block must be one interleaved row (1 x samples*channels)");
        if (channels == 0)
            channels = 1;
        if (channels < 1)
            throw std::invalid_argument("audio: " + std::to_string(channels) + " channels");
        const py::ssize_t n = array.size();
        if (n % channels)
            throw std::invalid_argument("audio: " + std::to_string(n) + " interleaved samples are not a whole "
                                        "number of " + std::to_string(channels) + "-channel frames");
        block.nb_samples = int(std::min<py::ssize_t>(n / channels, py::ssize_t(kAudioMaxBlock) + 1));
        planes.push_back(base);
    }
    block.format = f;
    block.sample_rate = sample_rate;
    block.channels = channels;
    block.data = planes.data();
}

void def_audio(py::module_ &m)
{
    py::class_<AudioTrack>(m, "AudioTrack",
                           "The core's sound for analysis: blocks of any format, rate and layout, mixed down to "
                           "mono 16 kHz once, on the blocks' clock (gaps silence, overlaps dropped).")
        .def(py::init<>())
        .def("push", [](AudioTrack &a, const py::array &samples, const std::string &format, int sample_rate,
                        double t, int channels) {
            PyAudioBlock b(samples, format, sample_rate, channels);
            a.push(b.block, t);
        }, py::arg("samples"), py::arg("format"), py::arg("sample_rate"), py::arg("t"), py::arg("channels") = 0,
           "A block whose first sample plays at t seconds (PyAV: frame.to_ndarray(), frame.format.name, "
           "frame.sample_rate, frame.time, len(frame.layout.channels)). ValueError for a malformed block.")
        .def("end", &AudioTrack::end)
        .def_property_readonly("ended", &AudioTrack::ended)
        .def_property_readonly("any", &AudioTrack::any)
        .def_property_readonly("known_until", &AudioTrack::known_until)
        .def_property_readonly("stored", &AudioTrack::stored)
        .def("samples", [](const AudioTrack &a, double t0, double t1) {
            const std::vector<float> s = a.samples(t0, t1);
            py::array_t<float> out(py::ssize_t(s.size()));
            if (!s.empty())
                std::memcpy(out.mutable_data(), s.data(), s.size() * sizeof(float));
            return out;
        }, py::arg("t0"), py::arg("t1"), "Mono float32 samples at 16 kHz for [t0, t1); silence where none.")
        .def("drop_before", &AudioTrack::drop_before, py::arg("t"));
    m.attr("AUDIO_RATE") = kAudioRate;

    m.def("face_crop", [](const py::array_t<uint8_t, py::array::c_style | py::array::forcecast> &frame,
                          std::tuple<double, double, double, double> box, const py::object &landmarks) -> py::object {
        if (frame.ndim() != 3 || frame.shape(2) != 3)
            throw std::invalid_argument("frame must be an H x W x 3 uint8 RGB array");
        SalcropImage img{};
        img.format = SALCROP_PIX_RGB24;
        img.width = int(frame.shape(1));
        img.height = int(frame.shape(0));
        img.data[0] = frame.data();
        img.linesize[0] = int(frame.strides(0));
        const auto [x, y, w, h] = box;
        FaceCrop c = face_crop(img, Box{x, y, w, h}, 0, 0.0);
        py::array_t<uint8_t> out({kFaceCropSize, kFaceCropSize});
        std::memcpy(out.mutable_data(), c.grey.data(), c.grey.size());
        if (landmarks.is_none())
            return std::move(out);
        const auto kps = landmarks.cast<std::vector<float>>();
        if (kps.size() != 10)
            throw std::invalid_argument("landmarks must be 10 numbers (5 x, y pairs, source pixels)");
        const double side = std::max(w, h);
        set_crop_landmarks(c, kps.data(), Box{x + w / 2 - side / 2, y + h / 2 - side / 2, side, side});
        return py::make_tuple(out, std::vector<float>(c.kps, c.kps + 10));
    }, py::arg("frame"), py::arg("box"), py::arg("landmarks") = py::none(),
       "The scorer's crop of an RGB frame: the square of side max(w, h) centred on box (x, y, w, h), 112x112 grey; "
       "with landmarks (FaceDetector.detect(..., landmarks=True)'s 10 numbers) also those in the crop's pixels.");

    py::class_<SpeakerScorer>(m, "SpeakerScorer",
                              "Who speaks (speakers.h): per face crop, the probability that this face speaks.")
        .def(py::init<const std::string &, int>(), py::arg("ort_library") = "", py::arg("threads") = 1)
        .def("score", [](SpeakerScorer &s, const CropArray &crops, const TimeArray &times,
                         const AudioTrack &audio, double fps, const py::object &landmarks, bool evidence) {
            auto run = [&](Track &track, const std::vector<FaceCrop> &list, std::vector<SpeakerEvidence> &ev) {
                s.score(track, list, audio, fps, &ev);
            };
            const TrackScores r = score_track(crops, times, landmarks, run);
            if (evidence)
                return py::tuple(py::make_tuple(r.speaking, r.mouth, r.voice, r.ratio, r.opening));
            return py::tuple(py::make_tuple(r.speaking, r.mouth, r.voice));
        }, py::arg("crops"), py::arg("times"), py::arg("audio"), py::arg("fps") = 25.0,
           py::arg("landmarks") = py::none(), py::arg("evidence") = false,
           "One face track's crops (N x 112 x 112 grey, in time order) at `times` (seconds, the audio's clock): "
           "(speaking, mouth, voice) float32 arrays of N: the probability that the face speaks (-1 = not "
           "scored), the mouth evidence z (the logit of P(this mouth speaks)) and the voice probability behind it "
           "(-1 = not scored). landmarks (optional, N x 10, crop pixels): where the mouth and eyes are. evidence=True adds the "
           "measures behind z: (..., ratio, opening), -1 where not scored.")
        .def("score_mouth", [](SpeakerScorer &s, const CropArray &crops, const TimeArray &times,
                               const py::object &landmarks) {
            auto run = [&](Track &track, const std::vector<FaceCrop> &list, std::vector<SpeakerEvidence> &ev) {
                s.score_mouth(track, list, &ev);
            };
            const TrackScores r = score_track(crops, times, landmarks, run);
            return py::make_tuple(r.speaking, r.mouth, r.ratio, r.opening);
        }, py::arg("crops"), py::arg("times"), py::arg("landmarks") = py::none(),
           "Without sound (speakers.h score_mouth): one face track's crops read by the mouth alone: (speaking, "
           "mouth, ratio, opening) float32 arrays of N: P(this mouth speaks) (-1 = not scored), its logit z and the "
           "two measures behind it (-1 where not scored).");
}

}  // namespace salcrop
