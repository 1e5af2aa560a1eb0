#include "speakers.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "model.h"
#include "ort_runtime.h"

namespace salcrop {

namespace {

// Silero VAD (models/silero-vad.onnx, MIT): 512 new samples at 16 kHz per call (32 ms), with the previous call's
// last 64 samples in front, and its recurrent state carried between calls.
constexpr int kVadChunk = 512;
constexpr int kVadContext = 64;
constexpr int kVadState = 2 * 1 * 128;
constexpr int kVadWarmup = 16;           // chunks run before the first one asked for, from a fresh state (0.5 s)
constexpr double kVoiceHalfWindow = 0.25;  // a frame's voice: the mean probability of the chunks within +-0.25 s

// The mouth measure (docs/speakers-audio.md): on the face crop (the face box, square), the mean brightness of the
// mouth region moves as the lips open and close while someone speaks; the eye region's brightness moves with the
// head, the light and the codec. Each series is high-passed (minus its mean over kHighPass crops) and the ratio of
// their spreads over +-kMouthHalfWindow is the measure. Regions in crop pixels (kFaceCropSize = 112).
constexpr int kMouthRows[2] = {56, 100}, kMouthCols[2] = {24, 88};
constexpr int kEyeRows[2] = {22, 50}, kEyeCols[2] = {20, 92};
constexpr int kHighPass = 9;
constexpr double kMouthHalfWindow = 1.5;  // seconds each side
constexpr double kSpreadFloor = 0.1;      // grey levels: an eye region that does not move at all
constexpr size_t kMinCrops = 5;           // fewer crops in the window: no score
// The ratio at which a face is as likely to speak as not, and how fast the probability rises around it: tuned on
// the 25 face-crops clips with a leave-one-out protocol (EVALUATION.md "Issue 25: who speaks (face-crops)").
constexpr double kMouthThreshold = 1.19;
constexpr double kMouthScale = 0.15;

double region_mean(const std::vector<uint8_t> &g, const int rows[2], const int cols[2])
{
    double sum = 0;
    for (int y = rows[0]; y < rows[1]; ++y)
        for (int x = cols[0]; x < cols[1]; ++x)
            sum += g[size_t(y) * kFaceCropSize + size_t(x)];
    return sum / double((rows[1] - rows[0]) * (cols[1] - cols[0]));
}

// x minus its centred moving mean over k samples (shorter at the ends).
std::vector<double> high_pass(const std::vector<double> &x, int k)
{
    std::vector<double> out(x.size());
    const int h = k / 2;
    for (size_t i = 0; i < x.size(); ++i) {
        const size_t a = i >= size_t(h) ? i - size_t(h) : 0, b = std::min(x.size(), i + size_t(h) + 1);
        double m = 0;
        for (size_t j = a; j < b; ++j)
            m += x[j];
        out[i] = x[i] - m / double(b - a);
    }
    return out;
}

double spread(const std::vector<double> &x, size_t a, size_t b)
{
    double m = 0, v = 0;
    for (size_t i = a; i < b; ++i)
        m += x[i];
    m /= double(b - a);
    for (size_t i = a; i < b; ++i)
        v += (x[i] - m) * (x[i] - m);
    return std::sqrt(v / double(b - a));
}

}  // namespace

struct SpeakerScorer::Impl {
    std::unique_ptr<Ort::Session> vad;
    std::vector<float> state = std::vector<float>(kVadState, 0.0f);
    std::vector<float> context = std::vector<float>(kVadContext, 0.0f);
    int64_t next_chunk = 0;
    bool streaming = false;
    std::map<int64_t, float> probs;  // chunk index (time * kAudioRate / kVadChunk) -> speech probability

    float run_chunk(const AudioTrack &audio, int64_t k)
    {
        std::vector<float> in(kVadContext + kVadChunk);
        std::copy(context.begin(), context.end(), in.begin());
        const std::vector<float> s = audio.samples(double(k * kVadChunk) / kAudioRate,
                                                   double((k + 1) * kVadChunk) / kAudioRate);
        std::copy(s.begin(), s.end(), in.begin() + kVadContext);
        std::copy(in.end() - kVadContext, in.end(), context.begin());
        Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
        const int64_t in_shape[2] = {1, kVadContext + kVadChunk}, state_shape[3] = {2, 1, 128};
        int64_t rate = kAudioRate;
        const int64_t rate_shape[1] = {1};
        Ort::Value inputs[3] = {
            Ort::Value::CreateTensor<float>(mem, in.data(), in.size(), in_shape, 2),
            Ort::Value::CreateTensor<float>(mem, state.data(), state.size(), state_shape, 3),
            Ort::Value::CreateTensor<int64_t>(mem, &rate, 1, rate_shape, 0),
        };
        float prob = 0;
        std::vector<float> state_out(kVadState);
        const int64_t prob_shape[2] = {1, 1};
        Ort::Value outputs[2] = {
            Ort::Value::CreateTensor<float>(mem, &prob, 1, prob_shape, 2),
            Ort::Value::CreateTensor<float>(mem, state_out.data(), state_out.size(), state_shape, 3),
        };
        const char *in_names[3] = {"input", "state", "sr"}, *out_names[2] = {"output", "stateN"};
        vad->Run(Ort::RunOptions{nullptr}, in_names, inputs, 3, out_names, outputs, 2);
        state.swap(state_out);
        return std::isfinite(prob) ? std::clamp(prob, 0.0f, 1.0f) : 0.0f;
    }

    // Speech probabilities of chunks k0..k1 (the sound must be known there).
    void ensure(const AudioTrack &audio, int64_t k0, int64_t k1)
    {
        while (k0 <= k1 && probs.count(k0))
            ++k0;
        if (k0 > k1)
            return;
        if (!streaming || k0 < next_chunk || k0 > next_chunk + kVadWarmup) {
            // Not where the stream stands: start afresh a little before, so the state has settled.
            std::fill(state.begin(), state.end(), 0.0f);
            std::fill(context.begin(), context.end(), 0.0f);
            next_chunk = k0 - kVadWarmup;
            streaming = true;
        }
        for (; next_chunk <= k1; ++next_chunk) {
            const float p = run_chunk(audio, next_chunk);
            if (next_chunk >= k0 || !probs.count(next_chunk))
                probs[next_chunk] = p;
        }
    }

    double voice(const AudioTrack &audio, double t)
    {
        const int64_t k0 = int64_t(std::floor((t - kVoiceHalfWindow) * kAudioRate / kVadChunk));
        const int64_t k1 = int64_t(std::floor((t + kVoiceHalfWindow) * kAudioRate / kVadChunk));
        ensure(audio, k0, k1);
        double sum = 0;
        for (int64_t k = k0; k <= k1; ++k)
            sum += probs[k];
        return sum / double(k1 - k0 + 1);
    }

    void forget_before(double t)
    {
        const int64_t k = int64_t(std::floor(t * kAudioRate / kVadChunk));
        probs.erase(probs.begin(), probs.lower_bound(k));
    }
};

SpeakerScorer::SpeakerScorer(const std::string &ort_library, int threads) : impl_(std::make_unique<Impl>())
{
    ort_init(ort_library);
    const std::string path = installed_model(kVadModel);
    if (path.empty())
        throw std::runtime_error(std::string("who speaks: the voice-activity model ") + kVadModel +
                                 " is not installed (models/, share/salcrop or beside the core)");
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(threads > 0 ? threads : 1);
    so.SetInterOpNumThreads(1);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    try {
        impl_->vad = std::make_unique<Ort::Session>(ort_env(), path.c_str(), so);
    } catch (const Ort::Exception &e) {
        throw std::runtime_error("who speaks: cannot load " + path + ": " + e.what());
    }
}

SpeakerScorer::~SpeakerScorer() = default;

size_t SpeakerScorer::score(Track &track, const std::vector<FaceCrop> &crops, const AudioTrack &audio, double fps,
                            std::vector<SpeakerEvidence> *evidence)
{
    (void)fps;  // the windows are in seconds, on the crops' times
    if (evidence)
        evidence->assign(crops.size(), SpeakerEvidence{});
    if (!audio.any() || crops.empty())
        return 0;
    for (const FaceCrop &c : crops)
        if (c.grey.size() != size_t(kFaceCropSize) * kFaceCropSize)
            throw std::invalid_argument("who speaks: a face crop of " + std::to_string(c.grey.size()) +
                                        " bytes (wanted " + std::to_string(kFaceCropSize) + "x" +
                                        std::to_string(kFaceCropSize) + " grey)");
    std::vector<double> mouth(crops.size()), eyes(crops.size());
    for (size_t i = 0; i < crops.size(); ++i) {
        mouth[i] = region_mean(crops[i].grey, kMouthRows, kMouthCols);
        eyes[i] = region_mean(crops[i].grey, kEyeRows, kEyeCols);
    }
    mouth = high_pass(mouth, kHighPass);
    eyes = high_pass(eyes, kHighPass);

    const double known = audio.known_until();
    size_t scored = 0, a = 0, b = 0;
    for (size_t i = 0; i < crops.size(); ++i) {
        const FaceCrop &c = crops[i];
        if (!(known >= c.t + kVoiceHalfWindow + double(kVadChunk) / kAudioRate))
            continue;
        while (a < crops.size() && crops[a].t < c.t - kMouthHalfWindow)
            ++a;
        b = std::max(b, a);
        while (b < crops.size() && crops[b].t <= c.t + kMouthHalfWindow)
            ++b;
        if (b - a < kMinCrops)
            continue;
        const double ratio = spread(mouth, a, b) / (spread(eyes, a, b) + kSpreadFloor);
        const double visual = 1.0 / (1.0 + std::exp(-(ratio - kMouthThreshold) / kMouthScale));
        const double voice = impl_->voice(audio, c.t);
        if (evidence)
            (*evidence)[i] = SpeakerEvidence{float(ratio), float(voice)};
        if (TrackPoint *p = track.at(c.frame)) {
            p->speaking = float(voice * visual);
            ++scored;
        }
    }
    if (impl_->probs.size() > 8192)  // ~4 min of chunks: forget what is well behind these crops
        impl_->forget_before(crops.front().t - 2 * kMouthHalfWindow);
    return scored;
}

}  // namespace salcrop
