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
// their spreads over +-kMouthHalfWindow is one part of the evidence; the other is how well the mouth's brightness
// follows the sound's loudness (synchrony, below). Regions in crop pixels (kFaceCropSize = 112).
constexpr int kMouthRows[2] = {72, 104}, kMouthCols[2] = {30, 82};
constexpr int kEyeRows[2] = {40, 60}, kEyeCols[2] = {16, 96};
constexpr int kHighPass = 9;
constexpr double kMouthHalfWindow = 0.5;  // seconds each side (issue 25 stop 31: was 1.5, which smeared turns)
constexpr double kSpreadFloor = 0.1;      // grey levels: an eye region that does not move at all
constexpr size_t kMinCrops = 5;           // fewer crops in the window: no score
// Synchrony: the largest |correlation| over the window between the mouth's high-passed brightness and the sound's
// high-passed log loudness (+-kLoudHalfWindow around each crop), the sound lagging the lips by 0..kMaxLag crops.
constexpr double kLoudHalfWindow = 0.02;
static_assert(kSoundAfterCrop == kVoiceHalfWindow + double(kVadChunk) / kAudioRate && kLoudHalfWindow <= kSoundAfterCrop,
              "speakers.h kSoundAfterCrop must be how far past a crop score() reads the sound");
constexpr int kMaxLag = 3;
// The evidence (stop 31, EVALUATION.md "Issue 25 (stop 31)"): z = kRatioWeight (log ratio - kRatioMean) +
// kOpeningWeight (log(opening + kOpeningFloor) - kOpeningMean) + kBias, P(mouth) = logistic(z): a logistic regression
// of the frame's speaking label on the two measures, fitted on the voiced frames of the 25 face-crops clips (each
// clip weighted equally; leave-one-clip-out 22/25). The measures were chosen looking at face-crops and
// msdwild-00115 (the mouth's brightness alone, with or without the synchrony, ranked the speaker above the listener
// on msdwild-00115 no better than chance once the crops were cut as the engine cuts them: its faces are in profile).
// The synchrony (kSyncWeight) is still measured and reported as evidence; it made face-crops worse.
constexpr double kSyncWeight = 0.0;
constexpr double kRatioWeight = 1.926, kRatioMean = -0.037;
constexpr double kOpeningWeight = 3.521, kOpeningMean = -4.321, kOpeningFloor = 0.01;
constexpr double kBias = -0.977;
constexpr int kDarkBelowMedian = 30;  // grey levels: a pixel of the open mouth, below the crop's median

struct Rect {
    int rows[2], cols[2];
};

// A rectangle of the crop centred at x (cx +- hx) from cy + y0 to cy + y1, inside the crop and never empty.
Rect crop_rect(double cx, double cy, double hx, double y0, double y1)
{
    auto at = [](double v) { return std::clamp(int(std::lround(v)), 0, kFaceCropSize - 1); };
    Rect r{{at(cy + y0), at(cy + y1)}, {at(cx - hx), at(cx + hx)}};
    for (int *e : {r.rows, r.cols})
        if (e[1] <= e[0])
            e[1] = std::min(kFaceCropSize, e[0] + 1);
    return r;
}

// The mouth and eye regions of a crop: on its landmarks (the mouth corners' midpoint, from 0.4 mouth widths above
// to 0.7 below, 0.75 widths each side; the eyes' midpoint +-0.25 eye distances, 0.8 each side), else fixed.
std::pair<Rect, Rect> regions(const FaceCrop &c)
{
    if (!c.landmarks)
        return {Rect{{kMouthRows[0], kMouthRows[1]}, {kMouthCols[0], kMouthCols[1]}},
                Rect{{kEyeRows[0], kEyeRows[1]}, {kEyeCols[0], kEyeCols[1]}}};
    const double ex = (c.kps[0] + c.kps[2]) / 2, ey = (c.kps[1] + c.kps[3]) / 2;
    const double ed = std::max(8.0, double(std::hypot(c.kps[2] - c.kps[0], c.kps[3] - c.kps[1])));
    const double mx = (c.kps[6] + c.kps[8]) / 2, my = (c.kps[7] + c.kps[9]) / 2;
    const double mw = std::max(8.0, double(std::hypot(c.kps[8] - c.kps[6], c.kps[9] - c.kps[7])));
    return {crop_rect(mx, my, 0.75 * mw, -0.4 * mw, 0.7 * mw), crop_rect(ex, ey, 0.8 * ed, -0.25 * ed, 0.25 * ed)};
}

double rect_mean(const std::vector<uint8_t> &g, const Rect &r)
{
    double sum = 0;
    for (int y = r.rows[0]; y < r.rows[1]; ++y)
        for (int x = r.cols[0]; x < r.cols[1]; ++x)
            sum += g[size_t(y) * kFaceCropSize + size_t(x)];
    return sum / double((r.rows[1] - r.rows[0]) * (r.cols[1] - r.cols[0]));
}

// The share of the rectangle's pixels darker than the crop's median by kDarkBelowMedian.
double dark_share(const std::vector<uint8_t> &g, const Rect &r)
{
    int hist[256] = {};
    for (uint8_t v : g)
        hist[v]++;
    int median = 0;
    for (size_t seen = 0; median < 255; ++median) {
        seen += size_t(hist[median]);
        if (2 * seen >= g.size())
            break;
    }
    int dark = 0;
    for (int y = r.rows[0]; y < r.rows[1]; ++y)
        for (int x = r.cols[0]; x < r.cols[1]; ++x)
            dark += g[size_t(y) * kFaceCropSize + size_t(x)] < median - kDarkBelowMedian ? 1 : 0;
    return double(dark) / double((r.rows[1] - r.rows[0]) * (r.cols[1] - r.cols[0]));
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

// The largest |Pearson correlation| of x[a+..] and y lagged by 0..max_lag samples, over [a, b).
double best_correlation(const std::vector<double> &x, const std::vector<double> &y, size_t a, size_t b, int max_lag)
{
    double best = 0;
    for (int lag = 0; lag <= max_lag; ++lag) {
        if (b - a < size_t(lag) + 8)
            break;
        const size_t n = b - a - size_t(lag);
        double mx = 0, my = 0;
        for (size_t i = 0; i < n; ++i) {
            mx += x[a + i];
            my += y[a + i + size_t(lag)];
        }
        mx /= double(n);
        my /= double(n);
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < n; ++i) {
            const double dx = x[a + i] - mx, dy = y[a + i + size_t(lag)] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx > 0 && syy > 0)
            best = std::max(best, std::fabs(sxy) / std::sqrt(sxx * syy));
    }
    return best;
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

void set_crop_landmarks(FaceCrop &crop, const float kps[10], const Box &square)
{
    if (!(square.w > 0))
        return;
    const double scale = kFaceCropSize / square.w;
    for (int j = 0; j < 5; j++) {
        crop.kps[2 * j] = float((kps[2 * j] - square.x) * scale);
        crop.kps[2 * j + 1] = float((kps[2 * j + 1] - square.y) * scale);
    }
    crop.landmarks = std::all_of(crop.kps, crop.kps + 10, [](float v) { return std::isfinite(v); });
}

FaceCrop face_crop(const SalcropImage &img, const Box &box, int64_t frame, double t)
{
    if (box.empty() || img.width <= 0 || img.height <= 0 || !img.data[0])
        throw std::invalid_argument("who speaks: a face crop needs a box and a frame");
    FaceCrop c;
    c.frame = frame;
    c.t = t;
    c.grey.resize(size_t(kFaceCropSize) * kFaceCropSize);
    const double side = std::max(box.w, box.h);
    const double x0 = box.cx() - side / 2, y0 = box.cy() - side / 2, step = side / kFaceCropSize;
    const int sub = std::clamp(int(std::ceil(step)), 1, 4);
    const bool rgb = img.format == SALCROP_PIX_RGB24 || img.format == SALCROP_PIX_BGR24 ||
                     img.format == SALCROP_PIX_RGBA || img.format == SALCROP_PIX_BGRA;
    const int bpp = img.format == SALCROP_PIX_RGBA || img.format == SALCROP_PIX_BGRA ? 4 : 3;
    const bool bgr = img.format == SALCROP_PIX_BGR24 || img.format == SALCROP_PIX_BGRA;
    auto grey_at = [&](int x, int y) -> int {
        x = std::clamp(x, 0, img.width - 1);
        y = std::clamp(y, 0, img.height - 1);
        const uint8_t *row = img.data[0] + ptrdiff_t(y) * img.linesize[0];
        if (!rgb)
            return row[x];
        const uint8_t *p = row + ptrdiff_t(x) * bpp;
        const int r = bgr ? p[2] : p[0], g = p[1], b = bgr ? p[0] : p[2];
        return (77 * r + 150 * g + 29 * b) >> 8;
    };
    for (int oy = 0; oy < kFaceCropSize; ++oy) {
        for (int ox = 0; ox < kFaceCropSize; ++ox) {
            int sum = 0;
            for (int sy = 0; sy < sub; ++sy)
                for (int sx = 0; sx < sub; ++sx)
                    sum += grey_at(int(std::floor(x0 + (ox + (sx + 0.5) / sub) * step)),
                                   int(std::floor(y0 + (oy + (sy + 0.5) / sub) * step)));
            c.grey[size_t(oy) * kFaceCropSize + size_t(ox)] = uint8_t(sum / (sub * sub));
        }
    }
    return c;
}

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

namespace {

// The mouth's measures over each crop's +-kMouthHalfWindow (the crops' high-passed region series), shared by the
// scorer with sound and without.
struct MouthSeries {
    std::vector<double> mouth, eyes, dark;
};

void check_crops(const std::vector<FaceCrop> &crops)
{
    for (const FaceCrop &c : crops)
        if (c.grey.size() != size_t(kFaceCropSize) * kFaceCropSize)
            throw std::invalid_argument("who speaks: a face crop of " + std::to_string(c.grey.size()) +
                                        " bytes (wanted " + std::to_string(kFaceCropSize) + "x" +
                                        std::to_string(kFaceCropSize) + " grey)");
}

MouthSeries mouth_series(const std::vector<FaceCrop> &crops)
{
    MouthSeries s;
    s.mouth.resize(crops.size());
    s.eyes.resize(crops.size());
    s.dark.resize(crops.size());
    for (size_t i = 0; i < crops.size(); ++i) {
        const auto [m, e] = regions(crops[i]);
        s.mouth[i] = rect_mean(crops[i].grey, m);
        s.eyes[i] = rect_mean(crops[i].grey, e);
        s.dark[i] = dark_share(crops[i].grey, m);
    }
    s.mouth = high_pass(s.mouth, kHighPass);
    s.eyes = high_pass(s.eyes, kHighPass);
    s.dark = high_pass(s.dark, kHighPass);
    return s;
}

// The mouth evidence z over crops [a, b) (the logit of P(this mouth speaks), without the synchrony) and its two
// measures.
double mouth_logit(const MouthSeries &s, size_t a, size_t b, double *ratio_out, double *opening_out)
{
    const double ratio = spread(s.mouth, a, b) / (spread(s.eyes, a, b) + kSpreadFloor);
    const double opening = spread(s.dark, a, b);
    *ratio_out = ratio;
    *opening_out = opening;
    return kRatioWeight * (std::log(std::max(ratio, 1e-3)) - kRatioMean) +
           kOpeningWeight * (std::log(opening + kOpeningFloor) - kOpeningMean) + kBias;
}

}  // namespace

size_t SpeakerScorer::score_mouth(Track &track, const std::vector<FaceCrop> &crops,
                                  std::vector<SpeakerEvidence> *evidence)
{
    if (evidence)
        evidence->assign(crops.size(), SpeakerEvidence{});
    if (crops.empty())
        return 0;
    check_crops(crops);
    const MouthSeries s = mouth_series(crops);
    size_t scored = 0, a = 0, b = 0;
    for (size_t i = 0; i < crops.size(); ++i) {
        const FaceCrop &c = crops[i];
        while (a < crops.size() && crops[a].t < c.t - kMouthHalfWindow)
            ++a;
        b = std::max(b, a);
        while (b < crops.size() && crops[b].t <= c.t + kMouthHalfWindow)
            ++b;
        // A crop near the end of what was cut so far is read from fewer crops (the engine scores it again with more).
        if (b - a < kMinCrops)
            continue;
        double ratio = 0, opening = 0;
        const double z = mouth_logit(s, a, b, &ratio, &opening);
        if (evidence)
            (*evidence)[i] = SpeakerEvidence{float(z), -1.0f, float(ratio), -1.0f, float(opening)};
        if (TrackPoint *p = track.at(c.frame)) {
            p->speaking = float(1.0 / (1.0 + std::exp(-z)));
            ++scored;
        }
    }
    return scored;
}

size_t SpeakerScorer::score(Track &track, const std::vector<FaceCrop> &crops, const AudioTrack &audio, double fps,
                            std::vector<SpeakerEvidence> *evidence)
{
    (void)fps;  // the windows are in seconds, on the crops' times
    if (evidence)
        evidence->assign(crops.size(), SpeakerEvidence{});
    if (!audio.any() || crops.empty())
        return 0;
    check_crops(crops);
    const MouthSeries series = mouth_series(crops);
    const std::vector<double> &mouth = series.mouth;
    // The sound's loudness at each crop (silence where it is not known yet: those crops are not scored below).
    std::vector<double> loud(crops.size());
    for (size_t i = 0; i < crops.size(); ++i) {
        const std::vector<float> s = audio.samples(crops[i].t - kLoudHalfWindow, crops[i].t + kLoudHalfWindow);
        double e = 0;
        for (float v : s)
            e += double(v) * v;
        loud[i] = std::log(std::sqrt(e / double(std::max<size_t>(1, s.size()))) + 1e-4);
    }
    loud = high_pass(loud, kHighPass);

    const double known = audio.known_until();
    size_t scored = 0, a = 0, b = 0;
    for (size_t i = 0; i < crops.size(); ++i) {
        const FaceCrop &c = crops[i];
        if (!(known >= c.t + kVoiceHalfWindow + double(kVadChunk) / kAudioRate))
            continue;
        while (a < crops.size() && crops[a].t < c.t - kMouthHalfWindow)
            ++a;
        b = std::max(b, a);
        // Only crops whose sound is known: silence that is only not yet heard would fake the synchrony.
        while (b < crops.size() && crops[b].t <= c.t + kMouthHalfWindow && crops[b].t + kLoudHalfWindow <= known)
            ++b;
        if (b - a < kMinCrops)
            continue;
        double ratio = 0, opening = 0;
        const double sync = best_correlation(mouth, loud, a, b, kMaxLag);
        const double z = mouth_logit(series, a, b, &ratio, &opening) + kSyncWeight * sync;
        const double visual = 1.0 / (1.0 + std::exp(-z));
        const double voice = impl_->voice(audio, c.t);
        if (evidence)
            (*evidence)[i] = SpeakerEvidence{float(z), float(voice), float(ratio), float(sync), float(opening)};
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
