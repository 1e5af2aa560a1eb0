// Faces on the sphere (issue 28, stop 31, round 2): the core's face detector (faces.h, YuNet) run on perspective
// views of an equirect picture, its detections mapped to directions, and those directions as mass on the sphere
// map (sphere.h's sphere_map adds it with SphereSaliency::face_weight).
//
// Why views and not the equirect frame: a face off the equator or across the seam is stretched or cut there, and
// YuNet was trained on perspective pictures. 16 views (8 around the horizon every 45°, 4 at pitch +45 and 4 at -45,
// fov 75, 640x480) cover the sphere to the poles' 5°; each runs at two input sizes (YuNet finds some faces at one
// scale only: the cave's presenter on the AVTrack360 stills). A detection counts in the view whose axis is nearest
// to it (views overlap), and duplicates nearer than their angular width are dropped, best score first.
#pragma once

#include <vector>

#include "faces.h"
#include "sphere.h"

namespace salcrop {

struct SphereFace {
    double yaw = 0, pitch = 0;  // the box centre's direction, degrees (sphere.h's conventions)
    double width = 0;           // angular width, degrees (about: the box width over the view's pixels per degree)
    float score = 0;
};

constexpr int kFaceViewW = 640, kFaceViewH = 480;
constexpr double kFaceViewFov = 75.0;
// The equirect width whose pixels per degree the views have (640 px over 75°): a wider frame is scaled down to it
// before the views are rendered (the engine's copy of a 4K frame is then 3072x1536, not 3840x1920).
constexpr int kFaceSourceWidth = int(360.0 / kFaceViewFov * kFaceViewW);

// The direction of point (px, py) (pixels, continuous) of the out_w x out_h view of horizontal fov `hfov` centred
// on (yaw, pitch): ViewRenderer's mapping (the rectilinear ray, pitched up, then turned by the yaw).
void view_point_direction(double px, double py, int out_w, int out_h, double hfov, double yaw, double pitch,
                          double *dir_yaw, double *dir_pitch);

// The faces of a packed RGB equirect picture (width x height, 2:1), best score first.
std::vector<SphereFace> faces_on_sphere(FaceDetector &detector, const uint8_t *rgb, int linesize, int width,
                                        int height);

// The faces at least `min_width` degrees wide as a map_h x map_w sphere map (sphere_map's grid, row 0 at the top):
// each a Gaussian of max(sigma, its width) degrees around its direction, cells weighted by cos latitude, each face
// the same mass, the map summing to 1. Returns false (and an all-zero map) where no face is that wide.
bool face_sphere_map(const std::vector<SphereFace> &faces, int map_h, int map_w, double sigma, double min_width,
                     float *out);

}  // namespace salcrop
