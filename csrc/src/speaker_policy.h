// Which face the camera follows, like an editor (DESIGN.md "People: the track layer"): face tracks in, per frame
// soft targets for the planner (planner.h AxisTarget) out, with the frame where the camera cuts. Pure: plain
// arrays in, no detector, no model (testable through _core.follow_speakers).
//
// With sound (some face has a speaking score):
//   - the faces of a frame are compared with each other, not each with a fixed threshold (the scores' level is
//     poorly calibrated): a face leads a frame when its score is the highest, at least kTalkFloor and kLeadMargin
//     above the next face's; it speaks when its score is at least kTalkFloor and kTalkShare of the highest;
//   - a new speaker takes the floor on the first frame k it leads when it leads kFloorShare of the next
//     kFloorSeconds and the followed one less than kYieldShare of them (nobody followed: kOpenFloorShare): the
//     chunk's lookahead sees those frames, so the camera goes at the start of the turn (the editor's cut), not a
//     second late; short interjections, back-channel "mm"s, laughs and overlaps never hold the floor (the
//     scorer's +-0.5 s window smears a 0.6 s interjection into ~1.5 s of a raised score: hence 1.5 s);
//   - the followed face changes at most once per kMinTurnSeconds (no ping-pong); when nobody speaks the camera
//     stays on the last speaker (a listener's reaction is not a reason to move), for up to kReleaseSeconds: a
//     followed face silent that long while nobody takes the floor is let go (the sound does not say who speaks:
//     saliency and the other faces decide again);
//   - another face speaking at the same time that fits in the window beside the speaker is framed too;
//   - the new speaker far from where the window frames the old one (more than kFarShare of a window length):
//     the camera cuts (at most one cut per kMinCutSeconds, else it moves), near: the planner's short move.
// Without sound (no scores): a lone face on screen of at least 15% of the height counts (viewers look at faces;
// several and no sound to say who speaks: no guess, speaker_policy.cpp); nobody is "the speaker" (-1).
// A pinned track is followed whenever it is on screen; an ignored one never counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "planner.h"
#include "tracks.h"

namespace salcrop {

// Chosen on msdwild-00115 through the engine (not held out; EVALUATION.md "Issue 25 (stop 31)").
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
SpeakerChoice follow_speakers(const Geometry &g, double fps, const std::vector<FaceSeries> &faces, int frames,
                              const FloorState &state, size_t commit);

}  // namespace salcrop
