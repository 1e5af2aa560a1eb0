#include "speaker_plan.h"

#include <algorithm>
#include <cmath>

namespace salcrop {

SpeakerChunk plan_speaker_chunk(const Geometry &g, const PlanParams &params, double fps,
                                const std::vector<FaceSeries> &faces, size_t known, size_t count, const Carry &carry,
                                const FloorState &floor, const PlanPart &plan_part, const FloorRules &rules)
{
    const int64_t since_cut = floor.since_cut;
    const SpeakerChoice choice = follow_speakers(g, fps, faces, int(known), floor, count, rules);
    SpeakerChunk out;
    out.floor = choice.state;
    out.speaker = choice.speaker;
    out.carry = carry;
    const size_t hold = size_t(std::lround(kMinCutSeconds * fps));
    struct Part {
        size_t from, to;
        bool fresh, still;
    };
    std::vector<Part> parts;
    const size_t cut = choice.cut < 0 ? known : size_t(choice.cut);
    // Still holding after a cut of an earlier chunk.
    const size_t held = since_cut < int64_t(hold) ? std::min(cut, hold - size_t(since_cut)) : 0;
    if (held > 0)
        parts.push_back(Part{0, held, false, true});
    if (cut > held)
        parts.push_back(Part{held, cut, false, false});
    if (cut < known) {
        parts.push_back(Part{cut, std::min(known, cut + hold), true, true});
        if (cut + hold < known)
            parts.push_back(Part{cut + hold, known, false, false});
    }
    for (const Part &part : parts) {
        if (part.from >= count)
            break;  // planned again by the next chunk
        const size_t keep = std::min(part.to, count) - part.from;
        PlanParams p = params;
        if (part.still && !p.forced) {
            p.forced = true;
            p.mode = ShotMode::Stationary;
        }
        ChunkPlan plan = plan_part(part.from, part.to, part.fresh ? Carry{} : out.carry, keep, choice.targets, p);
        if (part.fresh)
            plan.labels[0] = SegmentKind::Cut;
        out.carry = plan.carry;
        out.parts.push_back(SpeakerPart{part.from, keep, std::move(plan)});
    }
    return out;
}

}  // namespace salcrop
