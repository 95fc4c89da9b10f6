// Path geometry: verbs + points, shared by the SVG resolver, text engine and rasterizer.
#pragma once
#include <cstdint>
#include <vector>

#include "core/geom.h"

namespace verm {

enum class Verb : uint8_t { Move, Line, Quad, Cubic, Close };

// A path in user space. Arcs are converted to cubics by whoever builds the path.
class Path {
 public:
  void move_to(double x, double y) { verbs_.push_back(Verb::Move); pts_.push_back({x, y}); }
  void line_to(double x, double y) { verbs_.push_back(Verb::Line); pts_.push_back({x, y}); }
  void quad_to(double x1, double y1, double x, double y) {
    verbs_.push_back(Verb::Quad); pts_.push_back({x1, y1}); pts_.push_back({x, y});
  }
  void cubic_to(double x1, double y1, double x2, double y2, double x, double y) {
    verbs_.push_back(Verb::Cubic);
    pts_.push_back({x1, y1}); pts_.push_back({x2, y2}); pts_.push_back({x, y});
  }
  void close() { verbs_.push_back(Verb::Close); }

  const std::vector<Verb>& verbs() const { return verbs_; }
  const std::vector<Point>& points() const { return pts_; }
  bool empty() const { return verbs_.empty(); }
  void clear() { verbs_.clear(); pts_.clear(); }
  void reserve(size_t n) { verbs_.reserve(n); pts_.reserve(n * 2); }
  void append(const Path& other);

  Path transformed(const Transform& ts) const;
  // Bounding box of the control points (tight enough for layer sizing and objectBoundingBox
  // callers compute exact bounds with exact_bounds()).
  Rect control_bounds() const;
  // Exact bounds including curve extrema (needed for objectBoundingBox units).
  Rect exact_bounds() const;
  // Flattens to polylines, one per subpath, in the path's own coordinates.
  // `tolerance` is the maximum distance between curve and chord.
  struct Polyline { std::vector<Point> pts; bool closed = false; };
  std::vector<Polyline> flatten(double tolerance) const;

 private:
  std::vector<Verb> verbs_;
  std::vector<Point> pts_;
};

}  // namespace verm
