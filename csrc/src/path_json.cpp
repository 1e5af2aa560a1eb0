#include "path_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace salcrop {

std::string json_number(double v, int decimals)
{
    char buf[64];
    if (!std::isfinite(v))
        return "0";
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    std::string s = buf;
    // Trim trailing zeros: 1.500000 -> 1.5, 2.000000 -> 2.
    while (s.size() > 1 && s.back() == '0')
        s.pop_back();
    if (s.back() == '.')
        s.pop_back();
    return s == "-0" ? "0" : s;
}

namespace {
std::string num(double v)
{
    return json_number(v, 6);
}
}  // namespace

std::string make_path_json(int width, int height, double fps, const Ratio &ratio, const std::vector<Decision> &log,
                           const std::vector<TrackSpan> &tracks, bool subjects)
{
    std::string s;
    s.reserve(128 + log.size() * 64);
    s += "{\"version\":2,\"source\":{\"width\":" + std::to_string(width) + ",\"height\":" + std::to_string(height) +
         ",\"fps\":" + num(fps) + "},\"ratio\":\"" + std::to_string(ratio.num) + ":" + std::to_string(ratio.den) +
         "\",\"frames\":[";
    for (size_t i = 0; i < log.size(); i++) {
        const Decision &d = log[i];
        s += (i ? ",{" : "{");
        s += "\"t\":" + num(d.t) + ",\"x\":" + std::to_string(d.win.x) + ",\"y\":" + std::to_string(d.win.y) +
             ",\"w\":" + std::to_string(d.win.w) + ",\"h\":" + std::to_string(d.win.h) +
             ",\"shot\":" + std::to_string(d.shot) +
             ",\"speaker\":" + (d.speaker >= 0 ? std::to_string(d.speaker) : std::string("null"));
        if (subjects)  // the picked subject's tracked box, null where none is seen (lost)
            s += ",\"subject\":" + (d.subject >= 0 && !d.subject_box.empty() ? json_box(d.subject_box) : "null");
        s += "}";
    }
    s += "],\"shots\":[";
    size_t i = 0;
    bool first = true;
    while (i < log.size()) {
        size_t j = i;
        ShotMode mode = log[i].mode;
        std::string reason = "planned";  // or the planner's notes of the chunks that held (planner.h)
        bool held = false;
        while (j < log.size() && log[j].shot == log[i].shot) {
            if (log[j].mode != mode)
                mode = ShotMode::Track;
            if (log[j].reason != PlanReason::Planned && !log[j].note.empty()) {
                // No frame numbers: a split run's segments number their frames from their own start.
                reason = (held ? reason + "; " : std::string()) + log[j].note;
                held = true;
            }
            j++;
        }
        s += first ? "{" : ",{";
        first = false;
        s += "\"start\":" + std::to_string(log[i].frame) + ",\"end\":" + std::to_string(log[j - 1].frame + 1) +
             ",\"mode\":\"" + mode_name(mode) + "\",\"reason\":\"" + reason + "\"";
        if (subjects) {  // the picked subjects' tracks kept in this shot
            std::vector<int> kept;
            for (size_t k = i; k < j; k++)
                if (log[k].subject >= 0 && std::find(kept.begin(), kept.end(), log[k].subject) == kept.end())
                    kept.push_back(log[k].subject);
            s += ",\"subjects\":[";
            for (size_t k = 0; k < kept.size(); k++)
                s += (k ? "," : "") + std::to_string(kept[k]);
            s += "]";
        }
        s += ",\"segments\":[";
        // Runs of what the camera does inside the shot (version 2).
        s += segments_json(log, i, j);
        s += "]";
        if (!tracks.empty()) {
            // The shot's people tracks (tracks.h), clipped to its decided frames.
            s += ",\"tracks\":[";
            bool first_track = true;
            const int64_t start = log[i].frame, end = log[j - 1].frame + 1;
            for (const TrackSpan &t : tracks) {
                if (t.shot != log[i].shot || t.end <= start || t.start >= end)
                    continue;
                s += first_track ? "{" : ",{";
                first_track = false;
                s += "\"id\":" + std::to_string(t.id) + ",\"kind\":\"" + track_kind_name(t.kind) +
                     "\",\"start\":" + std::to_string(std::max(t.start, start)) +
                     ",\"end\":" + std::to_string(std::min(t.end, end)) + "}";
            }
            s += "]";
        }
        s += "}";
        i = j;
    }
    s += "]}";
    return s;
}

std::string json_box(const Box &b)
{
    return "[" + json_number(b.x, 2) + "," + json_number(b.y, 2) + "," + json_number(b.w, 2) + "," +
           json_number(b.h, 2) + "]";
}

std::string segments_json(const std::vector<Decision> &log, size_t first, size_t end)
{
    std::string s;
    for (size_t k = first; k < end;) {
        size_t e = k;
        while (e < end && log[e].segment == log[k].segment)
            e++;
        s += (k > first ? ",{" : "{");
        s += "\"start\":" + std::to_string(log[k].frame) + ",\"end\":" + std::to_string(log[e - 1].frame + 1) +
             ",\"mode\":\"" + segment_name(log[k].segment) + "\"}";
        k = e;
    }
    return s;
}

}  // namespace salcrop
