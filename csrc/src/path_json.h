// The crop path JSON (version 1, DESIGN.md): source, ratio, one entry per decided frame, and the shots with
// how each is filmed (a shot planned in chunks that mixed modes reads "track": its path is not one fixed
// window or one sweep).
#pragma once

#include <string>
#include <vector>

#include "engine.h"

namespace salcrop {

// tracks: the people tracks seen (Engine::track_spans); each shot lists those of its own (empty: "tracks" is
// left out of the shots). subjects: the run has picked subjects: per frame "subject" (the kept subject's box, null
// where none is seen) and per shot "subjects" (the ids of the subject tracks kept in it).
std::string make_path_json(int width, int height, double fps, const Ratio &ratio, const std::vector<Decision> &log,
                           const std::vector<TrackSpan> &tracks = {}, bool subjects = false);

// A JSON number with at most `decimals` decimals, trailing zeros trimmed ("1.5", "2"; a non-finite value: "0").
std::string json_number(double v, int decimals);

// A box as a JSON array [x,y,w,h] (2 decimals).
std::string json_box(const Box &b);

// A shot's "segments" array (version 2): runs of what the camera does on the decisions [first, end) of log.
std::string segments_json(const std::vector<Decision> &log, size_t first, size_t end);

}  // namespace salcrop
