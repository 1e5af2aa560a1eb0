#include "tracks.h"

#include <algorithm>
#include <cmath>

namespace salcrop {

double iou(const Box &a, const Box &b)
{
    const double ix = std::max(0.0, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
    const double iy = std::max(0.0, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
    const double inter = ix * iy;
    const double uni = a.w * a.h + b.w * b.h - inter;
    return uni > 0 ? inter / uni : 0.0;
}

const char *track_kind_name(TrackKind k)
{
    return k == TrackKind::Subject ? "subject" : "face";
}

const TrackPoint *Track::at(int64_t frame) const
{
    return frame >= first && frame < end() ? &points[size_t(frame - first)] : nullptr;
}

TrackPoint *Track::at(int64_t frame)
{
    return frame >= first && frame < end() ? &points[size_t(frame - first)] : nullptr;
}

Track &TrackSet::add(TrackKind kind, int shot, int64_t first)
{
    Track t;
    t.id = next_id_++;
    t.kind = kind;
    t.shot = shot;
    t.first = first;
    tracks_.push_back(std::move(t));
    return tracks_.back();
}

Track *TrackSet::find(int id)
{
    for (Track &t : tracks_)
        if (t.id == id)
            return &t;
    return nullptr;
}

const Track *TrackSet::find(int id) const
{
    for (const Track &t : tracks_)
        if (t.id == id)
            return &t;
    return nullptr;
}

std::vector<const Track *> TrackSet::on(int64_t frame) const
{
    std::vector<const Track *> out;
    for (const Track &t : tracks_)
        if (t.at(frame))
            out.push_back(&t);
    return out;
}

void TrackSet::drop_before(int64_t frame)
{
    for (Track &t : tracks_) {
        if (t.first >= frame)
            continue;
        const size_t drop = size_t(std::min<int64_t>(frame - t.first, int64_t(t.points.size())));
        t.points.erase(t.points.begin(), t.points.begin() + drop);
        t.first += int64_t(drop);
    }
    tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                                 [](const Track &t) { return t.points.empty(); }),
                  tracks_.end());
}

AxisTarget axis_target(const Geometry &g, int track, const Box &box)
{
    AxisTarget a;
    a.track = track;
    a.lo = g.vertical ? box.y : box.x;
    a.hi = a.lo + (g.vertical ? box.h : box.w);
    return a;
}

std::vector<FrameTargets> subject_targets(const Geometry &g, const TrackSet &tracks, int64_t first, size_t n,
                                          int hold_frames)
{
    std::vector<FrameTargets> out(n);
    for (const Track &tr : tracks.tracks()) {
        if (tr.kind != TrackKind::Subject)
            continue;
        for (size_t k = 0; k < n; k++) {
            const int64_t f = first + int64_t(k);
            const TrackPoint *p = tr.at(f);
            if (!p)
                continue;
            const Box *box = p->lost ? nullptr : &p->box;
            for (int64_t b = f - 1; !box && b >= f - hold_frames; b--) {
                const TrackPoint *q = tr.at(b);
                if (!q)
                    break;
                if (!q->lost)
                    box = &q->box;
            }
            if (!box)
                continue;
            AxisTarget a = axis_target(g, tr.id, *box);
            a.keep = true;
            out[k].push_back(a);
        }
    }
    return out;
}

const Track *kept_subject(const TrackSet &tracks, int64_t frame)
{
    for (const Track &tr : tracks.tracks())
        if (tr.kind == TrackKind::Subject)
            if (const TrackPoint *p = tr.at(frame); p && !p->lost)
                return &tr;
    return nullptr;
}

}  // namespace salcrop
