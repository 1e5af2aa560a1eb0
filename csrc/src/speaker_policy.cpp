#include "speaker_policy.h"

#include <algorithm>
#include <cmath>

namespace salcrop {

std::vector<FaceSeries> face_series(const TrackSet &tracks, int64_t first, int frames)
{
    std::vector<FaceSeries> out;
    for (const Track &t : tracks.tracks()) {
        if (t.kind != TrackKind::Face || t.end() <= first || t.first >= first + frames)
            continue;
        FaceSeries s;
        s.id = t.id;
        s.user = t.user;
        s.seen.assign(size_t(frames), 0);
        s.box.assign(size_t(frames), Box{});
        s.speaking.assign(size_t(frames), kSpeakingUnknown);
        for (int k = 0; k < frames; k++) {
            const TrackPoint *p = t.at(first + k);
            if (!p || p->lost || p->box.empty())
                continue;
            s.seen[size_t(k)] = 1;
            s.box[size_t(k)] = p->box;
            s.speaking[size_t(k)] = p->speaking;
        }
        out.push_back(std::move(s));
    }
    return out;
}

namespace {

// No sound: a face counts only when it is the only face on screen and at least this share of the frame's height (a
// lone presenter or interviewee: viewers look at the face). Several faces and no sound to say who speaks: no guess.
// Measured on hevc-gaze at 9:16 (not held out: chosen there): every face by size moved clips by -10.9 (Vidyo1,
// three people in a call) to +12.9 points (KristenAndSara); the one large face among smaller ones still cost
// Vidyo1 10.7 points; small faces (players, children, a crowd) cost BasketballPass and PartyScene 8-9 points.
constexpr double kMinFaceShare = 0.15;

// The window position along the axis that centres `box` (inside the frame).
double framing(const Geometry &g, const Box &box)
{
    const double c = g.vertical ? box.cy() : box.cx();
    return std::clamp(c - g.win_length() / 2.0, 0.0, double(std::max(0, g.range())));
}

}  // namespace

SpeakerChoice follow_speakers(const Geometry &g, double fps, const std::vector<FaceSeries> &faces, int frames,
                              const FloorState &state, size_t commit)
{
    SpeakerChoice out;
    out.targets.assign(size_t(std::max(0, frames)), {});
    out.speaker.assign(size_t(std::max(0, frames)), -1);
    out.state = state;
    if (frames <= 0)
        return out;
    const int n = int(faces.size());
    auto seen = [&](int i, int k) { return faces[size_t(i)].seen[size_t(k)] != 0; };
    auto score = [&](int i, int k) { return faces[size_t(i)].speaking[size_t(k)]; };
    auto counts = [&](int i, int k) {
        return seen(i, k) && faces[size_t(i)].user != TrackOverride::Ignored && score(i, k) >= 0;
    };
    bool sound = false;
    for (int i = 0; i < n && !sound; i++)
        for (int k = 0; k < frames && !sound; k++)
            sound = seen(i, k) && score(i, k) >= 0;
    // The faces of a frame are compared with each other (the scores' absolute level is poorly calibrated: a
    // speaker may score 0.3 and a listener 0.2): per frame the leader (the highest score, at least kTalkFloor and
    // kLeadMargin above the next face's) and the loudest score, for `talks` below.
    std::vector<int> lead(size_t(frames), -1);
    std::vector<float> top(size_t(frames), 0.0f);
    for (int k = 0; k < frames; k++) {
        int best = -1;
        float first = 0, second = 0;
        for (int i = 0; i < n; i++) {
            if (!counts(i, k))
                continue;
            const float s = score(i, k);
            if (best < 0 || s > first) {
                second = best < 0 ? 0.0f : first;
                first = s;
                best = i;
            } else {
                second = std::max(second, s);
            }
        }
        top[size_t(k)] = first;
        if (best >= 0 && first >= kTalkFloor && first - second >= kLeadMargin)
            lead[size_t(k)] = best;
    }
    // Speaking on a frame: at least kTalkFloor and kTalkShare of the frame's highest score (two at once: both).
    auto talks = [&](int i, int k) {
        return counts(i, k) && score(i, k) >= kTalkFloor && score(i, k) >= kTalkShare * top[size_t(k)];
    };
    const int floor = std::max(1, int(std::lround(kFloorSeconds * fps)));
    const int64_t min_turn = std::lround(kMinTurnSeconds * fps), min_cut = std::lround(kMinCutSeconds * fps);
    const int64_t release = std::lround(kReleaseSeconds * fps);
    auto index_of = [&](int id) {
        for (int i = 0; i < n; i++)
            if (faces[size_t(i)].id == id)
                return i;
        return -1;
    };
    auto add_target = [&](int i, int k, double weight) {
        AxisTarget a = axis_target(g, faces[size_t(i)].id, faces[size_t(i)].box[size_t(k)]);
        a.weight = weight;
        out.targets[size_t(k)].push_back(a);
    };

    FloorState st = state;
    for (int k = 0; k < frames; k++) {
        if (size_t(k) == commit)
            out.state = st;
        int cur = index_of(st.speaker);
        if (cur >= 0 && !seen(cur, k) && faces[size_t(cur)].user != TrackOverride::Pinned)
            cur = -1;  // off screen (or its track ended): whoever speaks next takes the floor at once
        if (cur < 0 && st.speaker >= 0 && index_of(st.speaker) < 0)
            st.speaker = -1;
        int next = cur;
        // A pinned face on screen is followed whatever the sound says.
        for (int i = 0; i < n; i++)
            if (faces[size_t(i)].user == TrackOverride::Pinned && seen(i, k))
                next = i;
        const bool pinned = next >= 0 && faces[size_t(next)].user == TrackOverride::Pinned;
        if (sound && !pinned) {
            // Who holds the floor over the next second (what is known of it: at least half of it). The chunk's
            // lookahead sees it: the turn is taken on the first frame the new speaker leads, with hindsight (the
            // editor's cut at the start of the turn), once it is known to last.
            const int end = std::min(frames, k + floor);
            const int cand = lead[size_t(k)];
            if (cand >= 0 && cand != cur && end - k >= floor / 2 + 1) {
                auto share = [&](int i) {
                    int c = 0;
                    for (int j = k; j < end; j++)
                        c += lead[size_t(j)] == i ? 1 : 0;
                    return double(c) / double(end - k);
                };
                const bool free_turn = cur < 0 || st.since_turn >= min_turn;
                // An empty floor (nobody followed yet, or let go) goes to whoever leads most of the next second.
                const double needed = cur < 0 ? kOpenFloorShare : kFloorShare;
                if (share(cand) >= needed && (cur < 0 || share(cur) < kYieldShare) && free_turn)
                    next = cand;
            }
        }
        if (next != cur && next >= 0) {
            // A turn: cut when the new face is far from where the old one was framed and no cut came lately.
            if (cur >= 0 && st.since_cut >= min_cut && out.cut < 0 &&
                std::abs(framing(g, faces[size_t(next)].box[size_t(k)]) - framing(g, faces[size_t(cur)].box[size_t(k)])) >
                    kFarShare * g.win_length()) {
                out.cut = k;
                st.since_cut = 0;
            }
            st.speaker = faces[size_t(next)].id;
            st.since_turn = 0;
            st.since_talk = 0;
        }
        if (sound && !pinned && next >= 0) {
            st.since_talk = talks(next, k) ? 0 : st.since_talk + 1;
            if (st.since_talk > release) {
                next = -1;  // silent too long, nobody else holds the floor: let go
                st.speaker = -1;
            }
        }
        if (sound || pinned) {
            const int s = next;
            if (s >= 0 && seen(s, k)) {
                out.speaker[size_t(k)] = faces[size_t(s)].id;
                add_target(s, k, kSpeakerWeight);
                // Someone speaking at the same time who fits in the window beside the speaker: both.
                const Box &b = faces[size_t(s)].box[size_t(k)];
                for (int i = 0; i < n; i++) {
                    if (i == s || !talks(i, k))
                        continue;
                    const Box &o = faces[size_t(i)].box[size_t(k)];
                    const double lo = g.vertical ? std::min(b.y, o.y) : std::min(b.x, o.x);
                    const double hi = g.vertical ? std::max(b.y + b.h, o.y + o.h) : std::max(b.x + b.w, o.x + o.w);
                    if (hi - lo <= g.win_length())
                        add_target(i, k, kSpeakerWeight);
                }
            }
        } else {
            // No sound: a lone large face counts (viewers look at faces); nobody is the speaker.
            int lone = -1, count = 0;
            for (int i = 0; i < n; i++)
                if (seen(i, k) && faces[size_t(i)].user != TrackOverride::Ignored) {
                    lone = i;
                    count++;
                }
            if (count == 1 && faces[size_t(lone)].box[size_t(k)].h >= kMinFaceShare * g.frame_h)
                add_target(lone, k, kFaceWeight);
        }
        st.since_turn++;
        st.since_cut++;
    }
    if (commit >= size_t(frames))
        out.state = st;
    return out;
}

}  // namespace salcrop
