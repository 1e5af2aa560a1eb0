// Faces on the sphere (issue 28): the core's face detector (faces.h, YuNet) run on perspective views of an
// equirect picture, its detections mapped to directions, and those directions as mass on the sphere map
// (sphere.h's sphere_map adds it with SphereSaliency::face_weight).
//
// Why views and not the equirect frame: a face off the equator or across the seam is stretched or cut there, and
// YuNet was trained on perspective pictures. Six views around the horizon (every 60°, fov 90, 384x288, pitched
// 10° down) see from 47° below the horizon to 27° above it (33° below and 17° above where two views meet), where
// the people around a camera are: standing, or seated at a table below it. The person holding the camera, below
// the lens, is mostly outside them (and too wide to count where seen: sphere.h's face_max_width). They run once
// each, at the view's own size. (Stop 31 ran 16 views covering the poles, at two sizes each: 32 detector runs of
// 640x480 and 320x240, 0.22 s of CPU a detection; these six keep the faces that turned the view on the AVTrack360
// stills for ~0.02 s: EVALUATION.md "Issue 28 (stop 35)".) A detection counts in the
// view whose axis is nearest to it (views overlap; within 5°, in both), and duplicates nearer than their angular
// width are dropped, best score first.
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

constexpr int kFaceViewW = 384, kFaceViewH = 288;
constexpr double kFaceViewFov = 90.0;
constexpr double kFaceViewPitch = -10.0;
constexpr int kFaceViews = 6;
// The equirect width whose pixels per degree the views have (384 px over 90°): a frame at least twice as wide is
// first box-averaged by the whole factor that keeps it at least this wide (a 4K frame: 2x2, to 1920x960), so the
// views' bilinear sampling does not alias.
constexpr int kFaceSourceWidth = int(360.0 / kFaceViewFov * kFaceViewW);

// The direction of point (px, py) (pixels, continuous) of the out_w x out_h view of horizontal fov `hfov` centred
// on (yaw, pitch): ViewRenderer's mapping (the rectilinear ray, pitched up, then turned by the yaw).
void view_point_direction(double px, double py, int out_w, int out_h, double hfov, double yaw, double pitch,
                          double *dir_yaw, double *dir_pitch);

// The faces of an equirect picture (2:1, any SalcropPixelFormat; one eye of a stereo frame), best score first. The
// views are rendered from the picture's own components (YUV stays YUV, at 4:4:4), so nothing of the full frame
// is converted to RGB: only the six small views, inside the detector.
std::vector<SphereFace> faces_on_sphere(FaceDetector &detector, const SalcropImage &equirect);

// Whether a face counts on the sphere map: from `min_width` to `max_width` degrees wide (sphere.h SphereSaliency).
inline bool face_counts(const SphereFace &f, double min_width, double max_width)
{
    return f.width >= min_width && f.width <= max_width;
}

// The faces from `min_width` to `max_width` degrees wide as a map_h x map_w sphere map (sphere_map's grid, row 0
// at the top): each a Gaussian of max(sigma, its width) degrees around its direction, cells weighted by cos
// latitude, each face the same mass, the map summing to 1. Returns false (and an all-zero map) where no face is that wide.
bool face_sphere_map(const std::vector<SphereFace> &faces, int map_h, int map_w, double sigma, double min_width,
                     double max_width, float *out);

}  // namespace salcrop
