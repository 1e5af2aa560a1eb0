// The track layer: faces, who speaks, and the subjects a user picks are all tracks (DESIGN.md "People: the track
// layer"). A track is an id and, per frame of one shot, a box with a score, a "lost" flag and, for faces, how
// likely it is that this face speaks. Producers fill tracks; consumers read them; nobody else sees a detector:
//   producers: the face detector + association into face tracks (faces.*), the active-speaker model (speakers.*:
//              fills TrackPoint::speaking), the subject tracker (subject_tracker.*: a user's pick, forward and
//              backward through its shot);
//   consumers: the planner, through track_targets() -> AxisTarget (planner.h: plan_chunk's targets), the path
//              JSON (per frame the speaker followed and the subject kept, per shot its tracks), the debug view,
//              and the Python module (_core) for the editor and the evaluation.
// The 360° planner reads the same tracks, as directions (box centres through sphere.h) instead of axis intervals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "planner.h"

namespace salcrop {

// A box in source pixels (display orientation); w, h > 0 for a real box.
struct Box {
    double x = 0, y = 0, w = 0, h = 0;
    double cx() const { return x + w / 2; }
    double cy() const { return y + h / 2; }
    bool empty() const { return !(w > 0 && h > 0); }
};
double iou(const Box &a, const Box &b);

enum class TrackKind { Face = 0, Subject = 1 };
const char *track_kind_name(TrackKind k);  // "face", "subject"

constexpr float kSpeakingUnknown = -1.0f;  // no audio, or not a face

// One track on one frame.
struct TrackPoint {
    Box box;
    float score = 0;                       // the detector's or tracker's confidence, 0..1
    bool lost = false;                     // not seen on this frame: box is the last known one (never planned on)
    float speaking = kSpeakingUnknown;     // faces: probability that this face speaks on this frame, 0..1
};

// What the user said of a track (the editor, the CLI): follow it whatever the audio says, or never.
enum class TrackOverride { None = 0, Pinned = 1, Ignored = 2 };

struct Track {
    int id = 0;                          // unique in one run of an engine (or one clip); stable through a shot
    TrackKind kind = TrackKind::Face;
    int shot = 0;
    int64_t first = 0;                   // the frame of points[0]
    std::vector<TrackPoint> points;      // one per frame from `first`, consecutive
    TrackOverride user = TrackOverride::None;
    int pick = -1;                       // Subject: the index of the user's pick it was started from

    int64_t end() const { return first + int64_t(points.size()); }
    // The point on `frame`, or nullptr outside [first, end()).
    const TrackPoint *at(int64_t frame) const;
    TrackPoint *at(int64_t frame);
};

// The tracks of a clip, or (streaming) of the frames an engine has not yet decided.
class TrackSet {
public:
    // A new track with a fresh id, starting at `first`.
    Track &add(TrackKind kind, int shot, int64_t first);
    Track *find(int id);
    const Track *find(int id) const;
    const std::vector<Track> &tracks() const { return tracks_; }
    std::vector<Track> &tracks() { return tracks_; }
    // Tracks with a point on `frame`.
    std::vector<const Track *> on(int64_t frame) const;
    // Streaming: forget the points of frames before `frame` (decided and written); tracks left empty go.
    void drop_before(int64_t frame);
    bool empty() const { return tracks_.empty(); }

private:
    std::vector<Track> tracks_;
    int next_id_ = 0;
};

// The interval of `box` along the geometry's moving axis (planner.h, AxisTarget).
AxisTarget axis_target(const Geometry &g, int track, const Box &box);

// The picked subjects' keep-targets on frames [first, first + n): each subject track's box where it is seen; where
// it is lost, its last seen box for up to hold_frames after it was last seen (the camera holds), then nothing (the
// plan eases back to the automatic path). Subjects in the order of their ids (the earliest pick first).
std::vector<FrameTargets> subject_targets(const Geometry &g, const TrackSet &tracks, int64_t first, size_t n,
                                          int hold_frames);
// The subject kept on `frame`: the first subject track seen there (nullptr: none, or all lost).
const Track *kept_subject(const TrackSet &tracks, int64_t frame);

}  // namespace salcrop
