// Pictures drawn by the core: the debug view (saliency heatmap, the window, the shot's mode in a tiny
// built-in bitmap font) and padded rendering (a region wider than the output ratio scaled to fit, the rest
// blurred or black). Both work per colour component, so every SalcropPixelFormat is handled.
#pragma once

#include <cstdint>

#include "engine.h"

namespace salcrop {

void draw_debug_view(SalcropPixelFormat format, int width, int height, uint8_t *const data[4], const int linesize[4],
                     const float *map, int map_h, int map_w, const Decision &d);

void render_padded_view(const SalcropImage &src, const Window &region, int out_w, int out_h, bool black,
                        uint8_t *const dst[4], const int dst_ls[4]);

}  // namespace salcrop
