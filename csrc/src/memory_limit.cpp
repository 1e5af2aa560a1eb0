#include "memory_limit.h"

#include <cstdlib>
#include <fstream>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace salcrop {

namespace {

// A cgroup limit file holds a byte count, or "max" (cgroup v2) / a huge number (v1) when unlimited.
int64_t read_limit(const char *path)
{
    std::ifstream f(path);
    std::string s;
    if (!(f >> s) || s.empty() || s == "max")
        return 0;
    char *end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    return end && *end == '\0' && v > 0 && v < (int64_t(1) << 60) ? int64_t(v) : 0;
}

}  // namespace

MemoryLimit memory_limit()
{
    if (const char *env = std::getenv("SALCROP_MEMORY_LIMIT_MB")) {
        char *end = nullptr;
        const double mb = std::strtod(env, &end);
        if (end != env && *end == '\0' && mb > 0)
            return {int64_t(mb * 1024 * 1024), "SALCROP_MEMORY_LIMIT_MB"};
    }
    MemoryLimit m;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        m = {int64_t(pages) * page, "this machine's memory"};
#endif
    for (const char *path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        const int64_t v = read_limit(path);
        if (v > 0 && (m.bytes == 0 || v < m.bytes))
            m = {v, "the container's memory limit"};
    }
    return m;
}

}  // namespace salcrop
