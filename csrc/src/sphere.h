// Equirectangular (360°) input: the geometry of a perspective view of the sphere, its rendering, and the
// saliency map's passage from the network's picture to the sphere.
//
// Conventions (the crop path JSON's, version 3): yaw 0 is the centre column of the equirect frame, positive to
// the right (towards larger columns), in (-180, 180]; pitch 0 is the middle row, positive up, in [-90, 90].
// A direction is the unit vector (x right, y up, z forward) = (cos p sin y, sin p, cos p cos y).
//
// Rendering follows FFmpeg's vf_v360 (xyz_to_equirect, flat_to_xyz) but with a moving view: the camera-space
// rays of a coarse grid of output pixels are computed once per output size; per frame only their rotation and
// the source coordinates of the grid nodes are recomputed, and each output pixel interpolates its source
// position from the four nodes around it (the mapping is smooth away from the poles, which the pitch limit
// keeps out of the view), then samples the source bilinearly, wrapping across the seam.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image.h"
#include "options.h"

namespace salcrop {

constexpr double kDefaultFov = 90.0;        // horizontal field of view, degrees
constexpr double kMinFov = 30.0, kMaxFov = 120.0;
constexpr double kMaxVerticalFov = 150.0;   // a taller view than this is hardly a picture any more
constexpr double kPoleMarginDeg = 5.0;      // the view's top/bottom edge stays this far from the pole
constexpr double kMaxAspectError = 0.02;    // equirect frames: width/height within 2% of 2 (e.g. 640x322)

enum class Projection { Flat, Equirect };
enum class Stereo { Mono, TopBottom, SideBySide };  // TopBottom/SideBySide: the top / left eye is used

Projection parse_projection(const std::string &s);  // "flat" | "equirect"; throws OptionError-like invalid_argument
Stereo parse_stereo(const std::string &s);          // "mono" | "tb" | "sbs"

// A view of the sphere: its horizontal field of view and its output size.
struct ViewGeometry {
    int src_w = 0, src_h = 0;  // the (one eye's) equirect frame
    int out_w = 0, out_h = 0;
    double hfov = kDefaultFov, vfov = 0;  // degrees
    double pitch_limit = 0;               // |pitch| <= this keeps the view's edge kPoleMarginDeg off the pole
};

// The eye's size in a frame of this layout.
void eye_size(Stereo stereo, int width, int height, int *eye_w, int *eye_h);

// Checks the frame is equirect (2:1 within kMaxAspectError) and the fov in range; picks the output size:
// `size_w` x `size_h` when given (> 0), else the size whose centre pixel spans what a source pixel spans
// (w = 2 tan(fov/2) * W / 2pi), even when `even`. Throws std::invalid_argument saying what is accepted.
ViewGeometry make_view_geometry(int eye_w, int eye_h, const Ratio &ratio, double fov, int size_w, int size_h,
                                bool even);

// Column / row of the equirect frame (continuous, pixel centres at +0.5) <-> yaw / pitch in degrees.
double yaw_of_column(double u, int width);
double pitch_of_row(double v, int height);
// Wraps an angle to (-180, 180].
double wrap_yaw(double yaw);

// Whether direction (yaw, pitch) falls inside the view centred on (view_yaw, view_pitch) with these fovs
// (the rectilinear frustum: evaluation against viewers' head directions).
bool direction_in_view(double yaw, double pitch, double view_yaw, double view_pitch, double hfov, double vfov);

// Renders views of one plane size (a component of the source) into one output plane size.
class ViewRenderer {
public:
    static constexpr int kGrid = 8;  // output pixels between exactly mapped nodes

    ViewRenderer(int src_w, int src_h, int out_w, int out_h, double hfov);
    // Source coordinates (u, v) for every output pixel of the view at (yaw, pitch), written into map_u/map_v
    // (out_w*out_h each): exact at grid nodes, interpolated between.
    void source_coords(double yaw, double pitch, std::vector<float> &map_u, std::vector<float> &map_v) const;
    // Bilinear sampling of `src` (a src_w x src_h component) at the view into `dst` (out_w x out_h).
    void render(const Component &src, double yaw, double pitch, const Component &dst);
    // Whether planar components may take the AVX2 sampling loop (on CPUs with it; bit-identical output). Off:
    // the plain loop, the reference the tests compare it with.
    void set_simd(bool on) { simd_ = on; }

private:
    void node_coords(double yaw, double pitch);
    static constexpr size_t kNodePad = 24;  // zeros after the fixed-point nodes: the AVX2 pre-pass reads past a row
    int src_w_, src_h_, out_w_, out_h_;
    int gw_, gh_;                    // grid nodes per row / column
    std::vector<float> rays_;        // camera-space unit rays of the grid nodes, xyz
    std::vector<float> nu_, nv_;     // per frame: source coords of the nodes
    std::vector<int32_t> iu_, iv_;   // the same as sample positions in 1/256 pixel (+ kNodePad)
    bool nodes_valid_ = false;       // iu_/iv_ hold the view at (nodes_yaw_, nodes_pitch_)
    double nodes_yaw_ = 0, nodes_pitch_ = 0;
    std::vector<int32_t> spans_;     // the AVX2 row pre-pass's cell spans (RowSpans), reused from row to row
    bool simd_ = true;
};

// Renders every component of an equirect picture into an output picture of the same format.
void render_view(const ViewGeometry &g, std::vector<ViewRenderer> &renderers, const Components &src,
                 double yaw, double pitch, const Components &dst);

// The network's picture of the sphere: the equirect frame with kPadShare of its width wrapped around on each
// side (the seam is not an edge to it). Given the model's input and map widths, how many map columns of
// padding each side, and the input columns they are.
struct SeamPadding {
    int map_pad = 0;     // map columns each side
    int input_pad = 0;   // input columns each side
    int core_input = 0;  // input columns spanning 360°
    int core_map = 0;    // map columns spanning 360°
};
constexpr double kPadShare = 0.08;
SeamPadding seam_padding(int input_w, int map_w);

// Wraps `pad` columns of each side of `core_w`-wide planes (3 planes of h rows, already in the middle of
// rows `input_w` wide) around the seam.
void wrap_pad_planes(float *planes, int input_w, int h, int pad);

// From the network's map over the padded picture to a saliency map on the sphere, map_h x core_map: the
// padding cut off, the map raised to the power `contrast` (a concentrated subject keeps its mass, the diffuse
// rest loses it), each cell weighted by its solid angle (cos latitude), normalised to sum 1, and blended with the
// front prior: (1 - w) * map + w * prior, the prior a Gaussian in yaw and pitch of front_sigma degrees, also
// summing to 1.
//
// How much it yields: the planner keeps the view where the blended map's mass is, so the view leaves the front
// for a direction whose share of the (sharpened) map exceeds the front view's by (w / (1 - w)) times the prior's
// own difference between the two (about 0.6 at sigma 45 for a direction 90° or more away, 0.85 at sigma 30), and
// comes back when nothing stands out (a flat map leaves the prior alone). The defaults are the fit on all ten
// AVTrack360 stills' head directions; leave-one-scene-out says what they are worth (EVALUATION.md, "Issue 28").
//
// What makes it yield (issue 28): saliency that moves. `motion` (map_h x core_map, from motion_map(); null for a
// shot's first sample or a still) adds motion_weight times the saliency of the cells that move, over the same
// mass units: (1 - w) map + w prior + k moving, renormalised. Motion counts only where it stands out: above the
// sphere's median cell (a moving camera, wind or noise moves everything alike and adds nothing) and a floor
// (compression noise). So a subject that moves elsewhere pulls the view off the front; diffuse or still content
// leaves it with the prior, and a still (no motion) plans exactly as without the term. The engine passes the
// mean over the shot's last three samples' motion (a brief movement does not pull the view). motion_weight is
// not fitted on head directions (the stills do not move): set on the synthetic seam clip and checked for
// steadiness on the real clips (EVALUATION.md, "Issue 28 (stop 31)").
struct SphereSaliency {
    double front_weight = 0.5;
    double front_sigma = 45.0;  // degrees (issue 22: 30, chosen on 5 stills; 45 is the leave-one-scene-out fit)
    double contrast = 1.0;      // the fit keeps the map as the network gives it
    double motion_weight = 1.5; // moving saliency counts 1 + k times; 0: the prior alone (issue 22)
    // Faces (issue 28, round 2; sphere_faces.h): the faces at least face_min_width degrees wide (a person within
    // about two metres of the camera) as a map of mass 1 (face_sphere_map, Gaussians of face_sigma degrees), added
    // face_weight times: (... + k_f faces) / (1 + k_f). Null faces add nothing. The three are the fit on the ten
    // AVTrack360 stills with the prior above held (EVALUATION.md, "Issue 28 (stop 31, round 2)"; 41.2% held out).
    double face_weight = 1.5;
    double face_sigma = 20.0;
    double face_min_width = 5.0;
    // A face wider than this (a head within ~0.6 m) is the person holding the camera, not a subject: on the real
    // Alcatraz clip the operator's face, 17-24° wide below the lens, pulled the view for seconds (stop 31, stop 35);
    // the people the stills' viewers look at are 6-11° wide. Set from that clip, not fitted on head directions.
    double face_max_width = 15.0;
};
constexpr double kMotionFloor = 0.01;  // mean |difference| of a map cell (0..1 RGB) under which nothing moves
constexpr double kMotionFull = 0.03;   // above the floor (or the median), what counts as fully moving
void sphere_map(const float *map, int map_h, int map_w, const SeamPadding &pad, const SphereSaliency &s,
                float *out, const float *motion = nullptr, const float *faces = nullptr);

// The mean absolute difference of two network inputs (3 planes of input_h x input_w bytes, seam padded) per
// sphere map cell (map_h x pad.core_map; the padding is left out), 0..1.
void motion_map(const uint8_t *a, const uint8_t *b, int input_w, int input_h, const SeamPadding &pad, int map_h,
                float *out);

}  // namespace salcrop
