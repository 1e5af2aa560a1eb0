// One chunk of a shot planned around who speaks: the speaker policy (speaker_policy.h) picks the face and the cut,
// the planner (planner.h) plans the parts the cut splits the chunk into. Shared by the streaming engine
// (Engine::plan_known) and the whole-clip planner (plan_offline, the editor's re-plans), so the two cannot drift.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "planner.h"
#include "speaker_policy.h"

namespace salcrop {

// Plans frames [from, to) of the chunk (index 0 = the chunk's first frame) from `carry`, keeping `keep` of them,
// with the policy's targets for those frames and `params` (a held part forces a stationary shot).
using PlanPart = std::function<ChunkPlan(size_t from, size_t to, const Carry &carry, size_t keep,
                                         const std::vector<FrameTargets> &targets, const PlanParams &params)>;

struct SpeakerPart {
    size_t from = 0;  // the chunk's frame of plan.windows[0]
    size_t keep = 0;  // frames of this part committed
    ChunkPlan plan;
};

struct SpeakerChunk {
    std::vector<SpeakerPart> parts;  // the committed frames [0, count), in order
    std::vector<int> speaker;        // per frame of the chunk: the face followed because it speaks, -1 none
    Carry carry;                     // after the committed frames
    FloorState floor;
};

// `faces` over the chunk's `known` frames; `count` of them are committed. A cut splits the chunk: the camera
// starts afresh there and holds still for kMinCutSeconds (an editor's cut is to a steady framing; its first frame
// is labelled SegmentKind::Cut), the rest planned as usual. rules: speaker_policy.h (the mouth alone: kMouthRules).
SpeakerChunk plan_speaker_chunk(const Geometry &g, const PlanParams &params, double fps,
                                const std::vector<FaceSeries> &faces, size_t known, size_t count, const Carry &carry,
                                const FloorState &floor, const PlanPart &plan_part,
                                const FloorRules &rules = kHeardRules);

}  // namespace salcrop
