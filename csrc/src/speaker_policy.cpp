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

// Who has the floor on each frame of a chunk (-1 nobody, else the index of a face), with hindsight over the
// whole chunk: the best sequence of holders (Viterbi over {nobody, face i}) where holding the floor on a frame earns
// the face's lead (its score minus the next face's, or minus kTalkFloor when alone on screen; at most +-kFullLead)
// less kLeadMargin, nobody earns 0, and a change from one face to another costs kSwitchSeconds of a full lead
// (to or from nobody, kEmptyFloorShare of it). A face that
// leads by little, or not for long enough to pay for going there and back (a 0.8 s interjection smeared to 2 s, a
// laugh, the ambiguous start of a scene where both mouths move), never takes the floor, and ping-pong cannot pay;
// a real turn is taken where the lead turns (the cost is the same wherever the change is, so the best path changes
// where the two faces' scores cross). `from`: the holder before the chunk (changing it on the first frame costs
// a change too).
std::vector<int> floor_path(const std::vector<FaceSeries> &faces, const std::vector<int64_t> &age, int frames,
                            double fps, int from, const FloorRules &rules)
{
    const int n = int(faces.size()), m = n + 1;  // state 0: nobody; state i + 1: face i
    // A face on screen without a score (its crops are not scored yet) is no one's competitor, and holds the floor
    // with a score of 0.
    auto counts = [&](int i, int k) {
        const FaceSeries &f = faces[size_t(i)];
        return f.seen[size_t(k)] != 0 && f.user != TrackOverride::Ignored;
    };
    // Nor is a face on screen for less than kSettleSeconds (`age`: frames on screen in a row, from earlier chunks
    // too): the scorer reads the mouth over +-0.5 s, and a new track's first scores (a false detection, a face
    // turning in) are read from a few crops.
    const int64_t settle = std::lround(kSettleSeconds * fps);
    auto scored = [&](int i, int k) {
        return counts(i, k) && faces[size_t(i)].speaking[size_t(k)] >= 0 &&
               age[size_t(i) * size_t(frames) + size_t(k)] >= settle;
    };
    auto score = [&](int i, int k) { return std::max(0.0f, faces[size_t(i)].speaking[size_t(k)]); };
    constexpr double kImpossible = -1e6;  // a face not on screen (or ignored) cannot hold the floor
    const double change = rules.switch_seconds * fps * kFullLead;
    // To or from nobody (the camera goes back to saliency): kEmptyFloorShare of a change, more than half, so that
    // passing through nobody costs more than a direct turn (not taken where two faces' curves cross).
    auto cost = [&](int r, int s) { return r == s ? 0.0 : r == 0 || s == 0 ? kEmptyFloorShare * change : change; };
    std::vector<double> gain(size_t(m), kImpossible), step(size_t(m), 0.0);
    for (int s = 0; s < m; s++)
        gain[size_t(s)] = -cost(from + 1, s);
    std::vector<int> back(size_t(frames) * size_t(m), 0);
    for (int k = 0; k < frames; k++) {
        for (int s = 0; s < m; s++) {
            // The best way into state s: stay (preferred on a tie) or change from the best other state.
            int arg = s;
            double best = gain[size_t(s)];
            for (int r = 0; r < m; r++) {
                // A face that has left the picture hands the floor back for free (the camera must leave it).
                const double c = r > 0 && !counts(r - 1, k) ? 0.0 : cost(r, s);
                if (r != s && gain[size_t(r)] - c > best) {
                    best = gain[size_t(r)] - c;
                    arg = r;
                }
            }
            double earn = 0.0;
            if (s > 0) {
                const int i = s - 1;
                if (!counts(i, k)) {
                    earn = kImpossible;
                } else {
                    double second = -1.0;
                    for (int j = 0; j < n; j++)
                        if (j != i && scored(j, k))
                            second = std::max(second, double(score(j, k)));
                    const double own = scored(i, k) ? double(score(i, k)) : 0.0;
                    // Alone on screen: against kTalkFloor with sound; the mouth alone says nothing there.
                    const double lead = second >= 0         ? own - second
                                        : rules.alone_competes ? own - double(kTalkFloor)
                                                               : -kFullLead;
                    earn = std::clamp(lead, -kFullLead, kFullLead) - rules.lead_margin;
                }
            }
            step[size_t(s)] = best + earn;
            back[size_t(k) * size_t(m) + size_t(s)] = arg;
        }
        gain.swap(step);
    }
    std::vector<int> path(size_t(frames), -1);
    int s = int(std::max_element(gain.begin(), gain.end()) - gain.begin());
    for (int k = frames - 1; k >= 0; k--) {
        path[size_t(k)] = s - 1;
        s = back[size_t(k) * size_t(m) + size_t(s)];
    }
    return path;
}

}  // namespace

SpeakerChoice follow_speakers(const Geometry &g, double fps, const std::vector<FaceSeries> &faces, int frames,
                              const FloorState &state, size_t commit, const FloorRules &rules)
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
    // speaker may score 0.3 and a listener 0.2): per frame the loudest score, for `talks` below.
    std::vector<float> top(size_t(frames), 0.0f);
    for (int k = 0; k < frames; k++)
        for (int i = 0; i < n; i++)
            if (counts(i, k))
                top[size_t(k)] = std::max(top[size_t(k)], score(i, k));
    // Speaking on a frame: at least kTalkFloor and kTalkShare of the frame's highest score (two at once: both).
    auto talks = [&](int i, int k) {
        return counts(i, k) && score(i, k) >= rules.talk_floor && score(i, k) >= kTalkShare * top[size_t(k)];
    };
    const int64_t min_turn = std::lround(kMinTurnSeconds * fps), min_cut = std::lround(kMinCutSeconds * fps);
    const int64_t release = std::lround(kReleaseSeconds * fps);
    int let_go = -1;
    auto index_of = [&](int id) {
        for (int i = 0; i < n; i++)
            if (faces[size_t(i)].id == id)
                return i;
        return -1;
    };
    // Frames each face has been on screen in a row (carried from the earlier chunks), and what the next chunk is
    // handed of it (after `commit` frames).
    std::vector<int64_t> age(size_t(n) * size_t(frames), 0);
    for (int i = 0; i < n; i++) {
        // On screen when the planning starts (the shot's first chunk): there from the start, not a flicker.
        int64_t run = !state.started && seen(i, 0) ? std::lround(kSettleSeconds * fps) : 0;
        for (const auto &[id, frames_seen] : state.on_screen)
            if (id == faces[size_t(i)].id)
                run = frames_seen;
        for (int k = 0; k < frames; k++) {
            run = seen(i, k) ? run + 1 : 0;
            age[size_t(i) * size_t(frames) + size_t(k)] = run;
        }
    }
    std::vector<std::pair<int, int64_t>> on_screen = state.on_screen;
    if (commit > 0) {
        on_screen.clear();
        const size_t last = std::min(commit, size_t(frames)) - 1;
        for (int i = 0; i < n; i++)
            if (age[size_t(i) * size_t(frames) + last] > 0)
                on_screen.emplace_back(faces[size_t(i)].id, age[size_t(i) * size_t(frames) + last]);
    }
    // Who has the floor, with hindsight over the whole chunk (floor_path): from the face followed so far.
    std::vector<int> floor_holder;
    if (sound) {
        int from = index_of(state.speaker);
        if (from >= 0 && !seen(from, 0))
            from = -1;
        floor_holder = floor_path(faces, age, frames, fps, from, rules);
    }
    auto add_target = [&](int i, int k, double weight) {
        AxisTarget a = axis_target(g, faces[size_t(i)].id, faces[size_t(i)].box[size_t(k)]);
        a.weight = weight;
        out.targets[size_t(k)].push_back(a);
    };

    FloorState st = state;
    for (int k = 0; k < frames; k++) {
        if (size_t(k) == commit) {
            out.state = st;
            out.state.on_screen = on_screen;
            out.state.started = true;
        }
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
            // The floor path's holder; a turn from one face to another at most once per kMinTurnSeconds (the
            // switching cost already keeps turns apart; this bounds what very strong alternating evidence does).
            int holder = floor_holder[size_t(k)];
            // A face let go after kReleaseSeconds of silence (below) is not taken back before it speaks again.
            if (holder >= 0 && holder == let_go && !talks(holder, k))
                holder = -1;
            else if (holder == let_go)
                let_go = -1;
            if (holder < 0 || cur < 0 || st.since_turn >= min_turn)
                next = holder;
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
        } else if (next < 0 && cur >= 0) {
            st.speaker = -1;  // nobody has the floor: saliency and the other faces decide
        }
        if (sound && !pinned && next >= 0) {
            // The floor path keeps a silent holder while nobody else leads (a pause is not a turn); silent for
            // kReleaseSeconds, it is let go (the sound does not say who speaks: saliency and the other faces decide).
            st.since_talk = talks(next, k) ? 0 : st.since_talk + 1;
            if (st.since_talk > release) {
                let_go = next;
                next = -1;
                st.speaker = -1;
            }
        }
        if (sound || pinned) {
            const int s = next;
            if (s >= 0 && seen(s, k)) {
                out.speaker[size_t(k)] = faces[size_t(s)].id;
                add_target(s, k, rules.weight);
                // Someone speaking at the same time who fits in the window beside the speaker: both.
                const Box &b = faces[size_t(s)].box[size_t(k)];
                for (int i = 0; i < n; i++) {
                    if (i == s || !talks(i, k))
                        continue;
                    const Box &o = faces[size_t(i)].box[size_t(k)];
                    const double lo = g.vertical ? std::min(b.y, o.y) : std::min(b.x, o.x);
                    const double hi = g.vertical ? std::max(b.y + b.h, o.y + o.h) : std::max(b.x + b.w, o.x + o.w);
                    if (hi - lo <= g.win_length())
                        add_target(i, k, rules.weight);
                }
            }
        }
        if ((!sound || rules.faces_count) && !pinned && out.targets[size_t(k)].empty()) {
            // No sound (or, by the mouth alone, nobody has the floor): a lone large face counts (viewers look at
            // faces).
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
    if (commit >= size_t(frames)) {
        out.state = st;
        out.state.on_screen = on_screen;
        out.state.started = true;
    }
    return out;
}

}  // namespace salcrop
