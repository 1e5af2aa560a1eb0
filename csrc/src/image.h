// Every SalcropPixelFormat seen as a list of colour components, each a strided 8-bit plane. Preprocessing,
// debug drawing and padded rendering all work per component, so they handle every format the same way.
#pragma once

#include <cstdint>

#include "salcrop/salcrop.h"

namespace salcrop {

struct Component {
    uint8_t *data = nullptr;  // first sample
    int linesize = 0;         // bytes between rows
    int width = 0, height = 0;
    int step = 1;             // bytes between samples of a row (packed formats)
};

struct Components {
    bool yuv = false;  // Y, U, V (or Y only for gray); else R, G, B
    int count = 0;     // 1 (gray) or 3
    Component c[3];
};

// Splits a picture into components; throws std::invalid_argument for an unknown format or a missing plane.
Components split_components(SalcropPixelFormat format, int width, int height, const uint8_t *const data[4],
                            const int linesize[4]);

// Checks a pushed image against the engine's size; throws std::invalid_argument saying what differs.
void check_image(const SalcropImage &img, int width, int height);

// BT.601/709 limited/full range conversion helpers (RGB in 0..255).
struct YuvMatrix {
    bool full_range = false;
    bool bt709 = false;
    void to_rgb(float y, float u, float v, float rgb[3]) const;
    // to_rgb as one affine map in float, for loops over many samples:
    // channel c = m[c][0]*y + m[c][1]*u + m[c][2]*v + m[c][3].
    struct Affine {
        float m[3][4];
    };
    Affine to_rgb_affine() const;
    void from_rgb(const float rgb[3], float yuv[3]) const;
};

}  // namespace salcrop
