// Native test driver for the raster back end: builds display lists directly (no SVG front end)
// next to the equivalent SVG text, renders them, and writes NAME.svg + NAME.rgba (8-byte
// little-endian width/height header, then straight RGBA8) into the output folder. The Python
// side (tests/test_raster_scenes.py) renders the SVGs with resvg-py and compares.
// Usage: raster_scenes OUT_DIR
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raster/render.h"

using namespace verm;
using namespace verm::scene;

namespace {

Color rgb(int r, int g, int b, float a = 1) { return {r / 255.f, g / 255.f, b / 255.f, a}; }

Path rect(double x, double y, double w, double h) {
  Path p;
  p.move_to(x, y);
  p.line_to(x + w, y);
  p.line_to(x + w, y + h);
  p.line_to(x, y + h);
  p.close();
  return p;
}

// Circle as 4 cubics (same construction as usvg).
Path circle(double cx, double cy, double r) {
  const double k = 0.5522847498307936 * r;
  Path p;
  p.move_to(cx + r, cy);
  p.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
  p.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
  p.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
  p.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
  p.close();
  return p;
}

std::shared_ptr<const Node> path_node(Path p, std::optional<Fill> f, std::optional<Stroke> s = {}) {
  auto n = std::make_shared<Node>();
  PathNode pn;
  pn.path = std::move(p);
  pn.fill = std::move(f);
  pn.stroke = std::move(s);
  n->value = std::move(pn);
  return n;
}

std::shared_ptr<const Node> group_node(Group g) {
  auto n = std::make_shared<Node>();
  n->value = std::move(g);
  return n;
}

Fill solid(Color c, FillRule r = FillRule::NonZero) {
  Fill f;
  f.paint = c;
  f.rule = r;
  return f;
}

Stroke stroke(Color c, double w, LineJoin j = LineJoin::Miter, LineCap cap = LineCap::Butt) {
  Stroke s;
  s.paint = c;
  s.width = w;
  s.join = j;
  s.cap = cap;
  return s;
}

struct Case {
  std::string name;
  std::string svg;  // 200x200 viewBox, rendered at 200x200
  std::function<Scene()> build;
};

std::string svg_doc(const std::string& body) {
  return "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' "
         "width='200' height='200' viewBox='0 0 200 200'>" +
         body + "</svg>";
}

Scene base() {
  Scene s;
  s.width = s.height = 200;
  return s;
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  cs.push_back({"rect_circle", svg_doc("<rect x='20.5' y='30.25' width='100' height='80' fill='#3366cc'/>"
                                      "<circle cx='120' cy='120' r='60' fill='#ff8800' fill-opacity='0.6'/>"),
                [] {
                  Scene s = base();
                  s.root.children.push_back(path_node(rect(20.5, 30.25, 100, 80), solid(rgb(0x33, 0x66, 0xcc))));
                  Fill f = solid(rgb(255, 0x88, 0));
                  f.opacity = 0.6f;
                  s.root.children.push_back(path_node(circle(120, 120, 60), f));
                  return s;
                }});
  cs.push_back({"evenodd_star", svg_doc("<path d='M100 10 L160 190 L10 70 L190 70 L40 190 Z' fill='green' fill-rule='evenodd'/>"),
                [] {
                  Scene s = base();
                  Path p;
                  p.move_to(100, 10); p.line_to(160, 190); p.line_to(10, 70); p.line_to(190, 70);
                  p.line_to(40, 190); p.close();
                  s.root.children.push_back(path_node(p, solid(rgb(0, 128, 0), FillRule::EvenOdd)));
                  return s;
                }});
  auto joins = [&](const char* name, const char* svgjoin, LineJoin j, const char* svgcap, LineCap cap) {
    cs.push_back({name,
                  svg_doc(std::string("<path d='M30 150 L70 40 L110 150 L150 60 Q190 100 170 170' fill='none' stroke='black' "
                                      "stroke-width='16' stroke-linejoin='") + svgjoin + "' stroke-linecap='" + svgcap + "'/>"),
                  [j, cap] {
                    Scene s = base();
                    Path p;
                    p.move_to(30, 150); p.line_to(70, 40); p.line_to(110, 150); p.line_to(150, 60);
                    p.quad_to(190, 100, 170, 170);
                    s.root.children.push_back(path_node(p, std::nullopt, stroke(rgb(0, 0, 0), 16, j, cap)));
                    return s;
                  }});
  };
  joins("stroke_miter_butt", "miter", LineJoin::Miter, "butt", LineCap::Butt);
  joins("stroke_round_round", "round", LineJoin::Round, "round", LineCap::Round);
  joins("stroke_bevel_square", "bevel", LineJoin::Bevel, "square", LineCap::Square);
  cs.push_back({"stroke_closed_circle_dash",
                svg_doc("<circle cx='100' cy='100' r='70' fill='none' stroke='#c00' stroke-width='10' "
                        "stroke-dasharray='30 10' stroke-dashoffset='5'/>"
                        "<rect x='40' y='40' width='120' height='120' fill='none' stroke='blue' stroke-width='4'/>"),
                [] {
                  Scene s = base();
                  Stroke st = stroke(rgb(0xcc, 0, 0), 10);
                  st.dasharray = {30, 10};
                  st.dash_offset = 5;
                  // usvg starts circles at (cx + r, cy) going clockwise (as circle()).
                  s.root.children.push_back(path_node(circle(100, 100, 70), std::nullopt, st));
                  s.root.children.push_back(path_node(rect(40, 40, 120, 120), std::nullopt, stroke(rgb(0, 0, 255), 4)));
                  return s;
                }});
  cs.push_back({"linear_gradient",
                svg_doc("<linearGradient id='g' x1='0' y1='0' x2='1' y2='1'>"
                        "<stop offset='0.1' stop-color='red'/><stop offset='0.5' stop-color='yellow' stop-opacity='0.5'/>"
                        "<stop offset='0.9' stop-color='blue'/></linearGradient>"
                        "<rect x='20' y='20' width='160' height='160' fill='url(#g)'/>"),
                [] {
                  Scene s = base();
                  LinearGradient g;
                  g.x1 = 0; g.y1 = 0; g.x2 = 1; g.y2 = 1;
                  g.transform = Transform{160, 0, 0, 160, 20, 20};
                  g.stops = {{0.1f, rgb(255, 0, 0)}, {0.5f, rgb(255, 255, 0, 0.5f)}, {0.9f, rgb(0, 0, 255)}};
                  Fill f;
                  f.paint = g;
                  s.root.children.push_back(path_node(rect(20, 20, 160, 160), f));
                  return s;
                }});
  cs.push_back({"radial_focal_reflect",
                svg_doc("<radialGradient id='g' cx='100' cy='100' r='40' fx='80' fy='90' fr='5' gradientUnits='userSpaceOnUse' spreadMethod='reflect'>"
                        "<stop offset='0' stop-color='white'/><stop offset='1' stop-color='#008'/></radialGradient>"
                        "<rect x='10' y='10' width='180' height='180' fill='url(#g)'/>"),
                [] {
                  Scene s = base();
                  RadialGradient g;
                  g.cx = 100; g.cy = 100; g.r = 40; g.fx = 80; g.fy = 90; g.fr = 5;
                  g.spread = SpreadMethod::Reflect;
                  g.stops = {{0, rgb(255, 255, 255)}, {1, rgb(0, 0, 0x88)}};
                  Fill f;
                  f.paint = g;
                  s.root.children.push_back(path_node(rect(10, 10, 180, 180), f));
                  return s;
                }});
  cs.push_back({"group_opacity_transform",
                svg_doc("<g opacity='0.5' transform='rotate(20 100 100)'>"
                        "<rect x='40' y='40' width='80' height='80' fill='red'/>"
                        "<rect x='80' y='80' width='80' height='80' fill='blue'/></g>"),
                [] {
                  Scene s = base();
                  Group g;
                  g.opacity = 0.5f;
                  g.transform = Transform::translate(100, 100) * Transform::rotate_deg(20) * Transform::translate(-100, -100);
                  g.children.push_back(path_node(rect(40, 40, 80, 80), solid(rgb(255, 0, 0))));
                  g.children.push_back(path_node(rect(80, 80, 80, 80), solid(rgb(0, 0, 255))));
                  s.root.children.push_back(group_node(std::move(g)));
                  return s;
                }});
  cs.push_back({"clip_path_nested",
                svg_doc("<clipPath id='c2'><rect x='0' y='0' width='120' height='200'/></clipPath>"
                        "<clipPath id='c' clip-path='url(#c2)'><circle cx='100' cy='100' r='70'/></clipPath>"
                        "<rect x='10' y='10' width='180' height='180' fill='seagreen' clip-path='url(#c)'/>"),
                [] {
                  Scene s = base();
                  auto c2 = std::make_shared<ClipPath>();
                  c2->children.push_back(path_node(rect(0, 0, 120, 200), solid(rgb(0, 0, 0))));
                  auto c = std::make_shared<ClipPath>();
                  c->children.push_back(path_node(circle(100, 100, 70), solid(rgb(0, 0, 0))));
                  c->clip_path = c2;
                  Group g;
                  g.clip_path = c;
                  g.children.push_back(path_node(rect(10, 10, 180, 180), solid(rgb(46, 139, 87))));
                  s.root.children.push_back(group_node(std::move(g)));
                  return s;
                }});
  cs.push_back({"mask_luminance",
                svg_doc("<mask id='m' x='0' y='0' width='200' height='200' maskUnits='userSpaceOnUse'>"
                        "<rect x='0' y='0' width='200' height='100' fill='white'/>"
                        "<rect x='0' y='100' width='200' height='100' fill='#808080'/></mask>"
                        "<circle cx='100' cy='100' r='80' fill='purple' mask='url(#m)'/>"),
                [] {
                  Scene s = base();
                  auto m = std::make_shared<Mask>();
                  m->rect = {0, 0, 200, 200};
                  auto content = std::make_shared<Group>();
                  content->children.push_back(path_node(rect(0, 0, 200, 100), solid(rgb(255, 255, 255))));
                  content->children.push_back(path_node(rect(0, 100, 200, 100), solid(rgb(128, 128, 128))));
                  m->content = content;
                  Group g;
                  g.mask = m;
                  g.children.push_back(path_node(circle(100, 100, 80), solid(rgb(128, 0, 128))));
                  s.root.children.push_back(group_node(std::move(g)));
                  return s;
                }});
  cs.push_back({"blend_multiply_hue",
                svg_doc("<rect x='20' y='20' width='120' height='120' fill='#e0a030'/>"
                        "<g style='mix-blend-mode:multiply'><circle cx='120' cy='110' r='60' fill='#3080e0'/></g>"
                        "<g style='mix-blend-mode:hue'><rect x='30' y='120' width='150' height='50' fill='#20c040'/></g>"),
                [] {
                  Scene s = base();
                  s.root.isolate = true;
                  s.root.children.push_back(path_node(rect(20, 20, 120, 120), solid(rgb(0xe0, 0xa0, 0x30))));
                  Group g1;
                  g1.blend = BlendMode::Multiply;
                  g1.children.push_back(path_node(circle(120, 110, 60), solid(rgb(0x30, 0x80, 0xe0))));
                  s.root.children.push_back(group_node(std::move(g1)));
                  Group g2;
                  g2.blend = BlendMode::Hue;
                  g2.children.push_back(path_node(rect(30, 120, 150, 50), solid(rgb(0x20, 0xc0, 0x40))));
                  s.root.children.push_back(group_node(std::move(g2)));
                  return s;
                }});
  cs.push_back({"pattern_tile",
                svg_doc("<pattern id='p' x='10' y='10' width='30' height='30' patternUnits='userSpaceOnUse'>"
                        "<rect x='0' y='0' width='15' height='15' fill='teal'/><circle cx='22' cy='22' r='6' fill='orange'/></pattern>"
                        "<rect x='20' y='20' width='160' height='160' fill='url(#p)'/>"),
                [] {
                  Scene s = base();
                  Pattern p;
                  p.rect = {10, 10, 30, 30};
                  auto content = std::make_shared<Group>();
                  // content in pattern space: tile origin at rect.x, rect.y
                  content->transform = Transform::translate(10, 10);
                  content->children.push_back(path_node(rect(0, 0, 15, 15), solid(rgb(0, 128, 128))));
                  content->children.push_back(path_node(circle(22, 22, 6), solid(rgb(255, 165, 0))));
                  p.content = content;
                  Fill f;
                  f.paint = p;
                  s.root.children.push_back(path_node(rect(20, 20, 160, 160), f));
                  return s;
                }});
  cs.push_back({"blur_offset_flood",
                svg_doc("<filter id='f' x='0' y='0' width='200' height='200' filterUnits='userSpaceOnUse'>"
                        "<feGaussianBlur in='SourceAlpha' stdDeviation='4' result='b'/>"
                        "<feOffset in='b' dx='6' dy='6' result='o'/>"
                        "<feFlood flood-color='navy' flood-opacity='0.5' result='fl'/>"
                        "<feComposite in='fl' in2='o' operator='in' result='sh'/>"
                        "<feMerge><feMergeNode in='sh'/><feMergeNode in='SourceGraphic'/></feMerge></filter>"
                        "<g filter='url(#f)'><rect x='40' y='40' width='100' height='80' fill='gold'/></g>"),
                [] {
                  Scene s = base();
                  auto f = std::make_shared<Filter>();
                  f->region = {0, 0, 200, 200};
                  auto prim = [&](FilterKind k, const char* result) {
                    FilterPrimitive p;
                    p.subregion = {0, 0, 200, 200};
                    p.kind = std::move(k);
                    p.result = result;
                    f->primitives.push_back(std::move(p));
                  };
                  FeGaussianBlur b;
                  b.in.kind = FilterInput::Kind::SourceAlpha;
                  b.std_dev_x = b.std_dev_y = 4;
                  prim(b, "b");
                  FeOffset o;
                  o.in = {FilterInput::Kind::Reference, "b"};
                  o.dx = o.dy = 6;
                  prim(o, "o");
                  FeFlood fl;
                  fl.color = rgb(0, 0, 128, 0.5f);
                  prim(fl, "fl");
                  FeComposite c;
                  c.in1 = {FilterInput::Kind::Reference, "fl"};
                  c.in2 = {FilterInput::Kind::Reference, "o"};
                  c.op = FeComposite::Op::In;
                  prim(c, "sh");
                  FeMerge m;
                  m.inputs = {{FilterInput::Kind::Reference, "sh"}, {FilterInput::Kind::SourceGraphic, ""}};
                  prim(m, "");
                  Group g;
                  g.filters.push_back(f);
                  g.children.push_back(path_node(rect(40, 40, 100, 80), solid(rgb(255, 215, 0))));
                  s.root.children.push_back(group_node(std::move(g)));
                  return s;
                }});
  cs.push_back({"thin_strokes_scaled",
                svg_doc("<g transform='scale(4)'><path d='M5 5 L45 10 M5 15 L45 40' stroke='black' stroke-width='0.1' fill='none'/>"
                        "<circle cx='25' cy='30' r='12' fill='none' stroke='#a0a' stroke-width='0.5'/></g>"),
                [] {
                  Scene s = base();
                  Group g;
                  g.transform = Transform::scale(4, 4);
                  Path p;
                  p.move_to(5, 5); p.line_to(45, 10); p.move_to(5, 15); p.line_to(45, 40);
                  g.children.push_back(path_node(p, std::nullopt, stroke(rgb(0, 0, 0), 0.1)));
                  g.children.push_back(path_node(circle(25, 30, 12), std::nullopt, stroke(rgb(0xaa, 0, 0xaa), 0.5)));
                  s.root.children.push_back(group_node(std::move(g)));
                  return s;
                }});
  cs.push_back({"image_nearest_bicubic",
                svg_doc("<image x='10' y='10' width='80' height='80' image-rendering='optimizeSpeed' xlink:href='data:image/png;base64,"
                        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAGUlEQVR4nAXBAQ0AAAzDIJbcv+UeRNJNwgM+/wYAhdCTnAAAAABJRU5ErkJggg=='/>"
                        "<image x='110' y='10' width='80' height='80' xlink:href='data:image/png;base64,"
                        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAGUlEQVR4nAXBAQ0AAAzDIJbcv+UeRNJNwgM+/wYAhdCTnAAAAABJRU5ErkJggg=='/>"),
                [] {
                  Scene s = base();
                  // 2x2: red, green / blue, white (matches the embedded PNG).
                  auto px = std::make_shared<std::vector<uint8_t>>(std::vector<uint8_t>{
                      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255});
                  for (int i = 0; i < 2; ++i) {
                    ImageNode im;
                    im.width = im.height = 2;
                    im.rgba = px;
                    im.view = {i == 0 ? 10.0 : 110.0, 10, 80, 80};
                    im.smooth = i == 1;
                    auto n = std::make_shared<Node>();
                    n->value = im;
                    s.root.children.push_back(n);
                  }
                  return s;
                }});
  return cs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int failures = 0;
  for (const auto& c : cases()) {
    Scene sc = c.build();
    std::vector<uint8_t> px(static_cast<size_t>(sc.width) * sc.height * 4);
    try {
      raster::render(sc, px.data());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), e.what());
      ++failures;
      continue;
    }
    std::ofstream(dir + "/" + c.name + ".svg") << c.svg;
    std::ofstream out(dir + "/" + c.name + ".rgba", std::ios::binary);
    uint32_t hdr[2] = {static_cast<uint32_t>(sc.width), static_cast<uint32_t>(sc.height)};
    out.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
    out.write(reinterpret_cast<const char*>(px.data()), static_cast<std::streamsize>(px.size()));
    std::printf("%s\n", c.name.c_str());
  }
  return failures ? 1 : 0;
}
