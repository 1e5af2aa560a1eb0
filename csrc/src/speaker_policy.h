// Which face the camera follows, like an editor (DESIGN.md "People: the track layer"): face tracks in, per frame
// soft targets for the planner (planner.h AxisTarget) out, with the frame where the camera cuts. Pure: plain
// arrays in, no detector, no model (testable through _core.follow_speakers).
//
// With sound (some face has a speaking score):
//   - who has the floor is decided with hindsight over the whole chunk, as a sequence (speaker_policy.cpp
//     floor_path: a Viterbi path over {nobody, face i}): holding the floor on a frame earns the face's lead over
//     the next face (the faces are compared with each other: the scores' level is poorly calibrated), capped at
//     kFullLead and less kLeadMargin; nobody earns 0; a change of holder costs kSwitchSeconds of a full lead (to or
//     from nobody kEmptyFloorShare of it). So a real turn is taken where the two faces' scores cross (the chunk's
//     lookahead sees its future: the editor's cut at the start of the turn), an interjection, a laugh or a "mm"
//     shorter than the cost of going there and back never is, and where the voices are ambiguous (both mouths
//     move, the start of a scene) nobody has the floor and the saliency decides, as with speakers=off;
//   - the followed face changes at most once per kMinTurnSeconds (the switching cost already keeps turns apart);
//     a holder silent for kReleaseSeconds is let go (saliency and the other faces decide) until it speaks again;
//     a face without a score or on screen under kSettleSeconds does not compete;
//   - another face speaking at the same time that fits in the window beside the speaker is framed too;
//   - the new speaker far from where the window frames the old one (more than kFarShare of a window length):
//     the camera cuts (at most one cut per kMinCutSeconds, else it moves), near: the planner's short move.
// Without sound and no scores: a lone face on screen of at least 15% of the height counts (viewers look at faces;
// several and no sound to say who speaks: no guess, speaker_policy.cpp); nobody is "the speaker" (-1). Without
// sound with the mouth's scores (kMouthRules): the same, and where a face's mouth clearly leads another's for long
// enough, it takes the floor as above, more cautiously.
// A pinned track is followed whenever it is on screen; an ignored one never counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "planner.h"
#include "tracks.h"

namespace salcrop {

// Chosen on msdwild-00115 through the engine (not held out; EVALUATION.md "Issue 25 (stop 31)" and "(stop 31, round
// 2)").
constexpr float kTalkFloor = 0.15f;   // below this nobody speaks (no voice, or no mouth that moves)
constexpr float kLeadMargin = 0.05f;  // the leader's score above the next face's
constexpr float kTalkShare = 0.7f;    // a second face speaks at once: at least this share of the highest score
// Who has the floor (speaker_policy.cpp floor_path): a face's lead over the next face counts up to kFullLead (a
// louder or surer score is not more of a turn), and changing the holder costs kSwitchSeconds of a full lead. Face
// to face, the new speaker gains two full leads a frame (its own, and the old one's lost lead): the turn pays once
// it has led fully for kSwitchSeconds / 2 = 1 s, going there and back only after 2 s; to or from nobody costs
// kEmptyFloorShare of a change (through nobody costs more than a direct turn): an empty floor is taken after 1.5 s
// of a full lead seen in the lookahead (the camera still goes where the lead begins), and let go for nobody only
// after 2 s with no face leading by kLeadMargin. kFullLead: about a
// real speaker's mean lead over the listener on msdwild-00115 (0.28, tuned there) and half the face-crops gap.
constexpr double kFullLead = 0.25;
constexpr double kSwitchSeconds = 2.0;
constexpr double kEmptyFloorShare = 0.6;
constexpr double kSettleSeconds = 0.5;  // a face on screen for less than this does not compete for the floor
constexpr double kMinTurnSeconds = 2.0;
constexpr double kMinCutSeconds = 2.0;
constexpr double kFarShare = 0.5;
constexpr double kReleaseSeconds = 3.0;
constexpr double kSpeakerWeight = 2.0;  // the speaker's face: this share of the frame's saliency mass (AxisTarget)
constexpr double kFaceWeight = 0.5;     // no sound: the one large face

// How the floor is read from the scores: with sound (the scorer's score, voice times mouth) or, without sound, from
// the mouth alone (speakers.h score_mouth, issue 25 stop 32), a weaker cue that a chewing, smiling or nodding
// listener also gives: then a face must lead by more and for longer, only against another face (a lone face is
// handled as without scores: the one large face counts), and the face followed weighs less against the saliency.
struct FloorRules {
    double lead_margin = kLeadMargin;        // the leader's score above the next face's, per frame
    double switch_seconds = kSwitchSeconds;  // a change of holder: this many seconds of a full lead
    bool alone_competes = true;              // a face alone on screen leads against kTalkFloor (else: never)
    float talk_floor = kTalkFloor;           // speaking on a frame (for framing two at once, and the release)
    double weight = kSpeakerWeight;          // the followed face's AxisTarget weight
    bool faces_count = false;                // where nobody has the floor, the lone large face counts (no sound)
};
constexpr FloorRules kHeardRules{};
// The mouth alone: a change of holder costs 3 s of a full lead (with sound 2 s), a lone face never takes the floor,
// speaking "at once" or holding it needs P(mouth) >= 0.5, and the followed face weighs half as much. Chosen on
// msdwild-00115 without its sound and hevc-gaze (EVALUATION.md "Issue 25 (stop 32)": the two clips where the
// choice changes anything pull opposite ways; 2 s loses KristenAndSara's 12 points, 2.5 s or more msdwild's turn).
constexpr FloorRules kMouthRules{kLeadMargin, 3.0, false, 0.5f, 1.0, true};

// One face track over the frames of a chunk (index 0 = the chunk's first frame).
struct FaceSeries {
    int id = -1;
    TrackOverride user = TrackOverride::None;
    std::vector<uint8_t> seen;      // per frame: a box (not lost) on it
    std::vector<Box> box;           // per frame (meaningful where seen)
    std::vector<float> speaking;    // per frame: 0..1, or kSpeakingUnknown
};

// What the policy carries from one chunk to the next (the state after the committed frames).
struct FloorState {
    int speaker = -1;           // the face followed
    int64_t since_turn = 1 << 30;  // frames since the followed face last changed
    int64_t since_cut = 1 << 30;   // frames since the camera last cut
    int64_t since_talk = 0;        // frames since the followed face last spoke
    std::vector<std::pair<int, int64_t>> on_screen;  // per face id: frames on screen in a row (kSettleSeconds)
    bool started = false;                            // a chunk of this shot was planned
};

struct SpeakerChoice {
    std::vector<FrameTargets> targets;  // per frame
    std::vector<int> speaker;           // per frame: the face followed because it speaks, -1 none
    int cut = -1;                       // the frame the camera cuts on (the chunk's first, at most), -1 none
    FloorState state;                   // after `commit` frames
};

// The series of the face tracks of `tracks` over frames [first, first + frames) (tracks.h -> plain arrays).
std::vector<FaceSeries> face_series(const TrackSet &tracks, int64_t first, int frames);

// frames: the chunk's length; the last kFloorSeconds of it decide nothing (their future is not known yet), so
// `commit` should leave them for the next chunk.
// rules: kHeardRules where the scores come with sound, kMouthRules where they are the mouth's alone.
SpeakerChoice follow_speakers(const Geometry &g, double fps, const std::vector<FaceSeries> &faces, int frames,
                              const FloorState &state, size_t commit, const FloorRules &rules = kHeardRules);

}  // namespace salcrop
