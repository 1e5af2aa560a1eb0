// The user's picked subjects: a JSON array of {"t": seconds or "frame": n, "box": [x, y, w, h]}, the box in source
// pixels on that frame. The engine tracks each through its shot (subject_tracker.h) and the planner keeps it in
// the window (planner.h, AxisTarget::keep). docs/subjects.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracks.h"

namespace salcrop {

struct SubjectPick {
    int64_t frame = 0;
    Box box;
    // A face track instead of a box ({"t" or "frame", "face": id}, issue 25 stop 32): the track of that id, as the
    // path JSON of a run with the same input and options names it (ids are per run, and the same run to run), is
    // followed from `frame` on wherever it is on screen (the engine pins it: speaker_policy.h). -1: a box.
    int face = -1;
};

// Parses the JSON text; `t` becomes the nearest frame at `fps`. Throws std::invalid_argument naming the bad entry
// (not an array, an unknown key, both or neither of t and frame, no box or not four numbers, a negative time, an
// empty box or one outside the width x height frame; both or neither of box and face, a face id that is not a
// whole number >= 0).
std::vector<SubjectPick> parse_subjects(const std::string &json, double fps, int width, int height);

// How long a lost subject's last box is still kept (the camera holds), before the plan eases back to the
// automatic path; seconds.
constexpr double kLostHoldSeconds = 1.0;

}  // namespace salcrop
