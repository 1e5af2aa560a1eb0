// What a 360° run writes beside its pictures: the crop path JSON, version 3 (per frame the view's yaw, pitch
// and fov in degrees; sphere.h gives the conventions), and the debug view (the equirect frame with the sphere
// map as a heatmap and the view's curved outline).
#pragma once

#include <string>
#include <vector>

#include "engine.h"
#include "sphere.h"

namespace salcrop {

std::string make_sphere_path_json(int width, int height, double fps, const Ratio &ratio, const ViewGeometry &view,
                                  const std::string &stereo, const std::vector<Decision> &log);

// Draws onto the (eye of the) equirect frame, eye_w x eye_h: map is the sphere map (map_h x map_w).
void draw_sphere_debug(SalcropPixelFormat format, int eye_w, int eye_h, uint8_t *const data[4],
                       const int linesize[4], const float *map, int map_h, int map_w, const Decision &d,
                       const ViewGeometry &view);

}  // namespace salcrop
