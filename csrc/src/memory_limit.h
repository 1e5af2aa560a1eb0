// How much memory this process may use: the machine's RAM, or less under a cgroup (container) limit. The
// front ends keep every frame awaiting its decision; the engine checks that worst case against this before
// the first frame, so a frame size the machine cannot buffer is refused up front instead of ending in the
// out-of-memory killer hours into a run.
#pragma once

#include <cstdint>
#include <string>

namespace salcrop {

struct MemoryLimit {
    int64_t bytes = 0;   // 0 = unknown (no check)
    std::string source;  // what set it, for messages: "this machine's memory", "the cgroup limit", ...
};

// SALCROP_MEMORY_LIMIT_MB in the environment overrides what the system says (tests, or a user who wants a
// tighter bound); otherwise the smaller of physical memory and the cgroup v2/v1 limit.
MemoryLimit memory_limit();

}  // namespace salcrop
