#include "svg/path_data.h"

#include <cctype>
#include <cmath>

#include "svg/values.h"

namespace verm::svg {

void arc_to(Path& p, double x0, double y0, double rx, double ry, double angle_deg,
            bool large_arc, bool sweep, double x, double y) {
  if (x0 == x && y0 == y) return;
  rx = std::fabs(rx);
  ry = std::fabs(ry);
  if (rx == 0 || ry == 0) { p.line_to(x, y); return; }
  double phi = angle_deg * M_PI / 180.0, cs = std::cos(phi), sn = std::sin(phi);
  double dx2 = (x0 - x) / 2, dy2 = (y0 - y) / 2;
  double x1p = cs * dx2 + sn * dy2, y1p = -sn * dx2 + cs * dy2;
  double lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);
  if (lambda > 1) { double s = std::sqrt(lambda); rx *= s; ry *= s; }
  double rx2 = rx * rx, ry2 = ry * ry;
  double num = rx2 * ry2 - rx2 * y1p * y1p - ry2 * x1p * x1p;
  double den = rx2 * y1p * y1p + ry2 * x1p * x1p;
  double coef = den == 0 ? 0 : std::sqrt(std::max(0.0, num / den));
  if (large_arc == sweep) coef = -coef;
  double cxp = coef * (rx * y1p / ry), cyp = coef * -(ry * x1p / rx);
  double cx = cs * cxp - sn * cyp + (x0 + x) / 2, cy = sn * cxp + cs * cyp + (y0 + y) / 2;
  auto angle = [](double ux, double uy, double vx, double vy) {
    double a = std::atan2(ux * vy - uy * vx, ux * vx + uy * vy);
    return a;
  };
  double ux = (x1p - cxp) / rx, uy = (y1p - cyp) / ry;
  double vx = (-x1p - cxp) / rx, vy = (-y1p - cyp) / ry;
  double theta1 = angle(1, 0, ux, uy);
  double dtheta = angle(ux, uy, vx, vy);
  if (!sweep && dtheta > 0) dtheta -= 2 * M_PI;
  else if (sweep && dtheta < 0) dtheta += 2 * M_PI;
  int segs = static_cast<int>(std::ceil(std::fabs(dtheta) / (M_PI / 2) - 1e-7));
  if (segs < 1) segs = 1;
  double delta = dtheta / segs;
  double t = 4.0 / 3.0 * std::tan(delta / 4);
  double th = theta1;
  auto pt = [&](double a, double& px, double& py) {
    double ex = rx * std::cos(a), ey = ry * std::sin(a);
    px = cs * ex - sn * ey + cx;
    py = sn * ex + cs * ey + cy;
  };
  auto deriv = [&](double a, double& dx, double& dy) {
    double ex = -rx * std::sin(a), ey = ry * std::cos(a);
    dx = cs * ex - sn * ey;
    dy = sn * ex + cs * ey;
  };
  for (int i = 0; i < segs; ++i) {
    double th2 = th + delta;
    double p0x, p0y, p3x, p3y, d0x, d0y, d3x, d3y;
    pt(th, p0x, p0y);
    pt(th2, p3x, p3y);
    deriv(th, d0x, d0y);
    deriv(th2, d3x, d3y);
    if (i == segs - 1) { p3x = x; p3y = y; }
    p.cubic_to(p0x + t * d0x, p0y + t * d0y, p3x - t * d3x, p3y - t * d3y, p3x, p3y);
    th = th2;
  }
}

bool parse_path_data(std::string_view d, Path& out) {
  Stream st{d};
  st.skip_ws();
  double cx = 0, cy = 0;            // current point
  double sx = 0, sy = 0;            // subpath start
  double lcx = 0, lcy = 0;          // last control point (for S/T)
  char prev = 0;                    // previous command (upper-case)
  char cmd = 0;
  bool first = true, need_move = false;
  while (true) {
    st.skip_ws();
    if (st.at_end()) return true;
    char c = st.peek();
    bool explicit_cmd = std::isalpha(static_cast<unsigned char>(c));
    if (explicit_cmd) {
      cmd = c;
      ++st.pos;
      st.skip_ws();
    } else {
      if (!cmd) return false;
      if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.')) return false;
      if (cmd == 'z' || cmd == 'Z') return false;
      // Implicit repetition: M -> L, m -> l.
      if (cmd == 'M') cmd = 'L';
      else if (cmd == 'm') cmd = 'l';
    }
    char up = static_cast<char>(std::toupper(static_cast<unsigned char>(cmd)));
    bool rel = cmd != up;
    if (first && up != 'M') return false;
    first = false;
    if (up == 'Z') {
      out.close();
      cx = sx; cy = sy;
      prev = 'Z';
      need_move = true;
      continue;
    }
    if (need_move && up != 'M') {
      out.move_to(cx, cy);
    }
    need_move = false;
    double v[7];
    bool f1 = false, f2 = false;
    auto num = [&](double& x) {
      if (!st.parse_number(x)) return false;
      st.skip_ws_comma();
      return true;
    };
    auto flag = [&](bool& f) {
      if (!st.parse_flag(f)) return false;
      st.skip_ws_comma();
      return true;
    };
    switch (up) {
      case 'M': {
        if (!num(v[0]) || !num(v[1])) return false;
        if (rel) { v[0] += cx; v[1] += cy; }
        out.move_to(v[0], v[1]);
        cx = sx = v[0]; cy = sy = v[1];
        break;
      }
      case 'L': {
        if (!num(v[0]) || !num(v[1])) return false;
        if (rel) { v[0] += cx; v[1] += cy; }
        out.line_to(v[0], v[1]);
        cx = v[0]; cy = v[1];
        break;
      }
      case 'H': {
        if (!num(v[0])) return false;
        if (rel) v[0] += cx;
        out.line_to(v[0], cy);
        cx = v[0];
        break;
      }
      case 'V': {
        if (!num(v[0])) return false;
        if (rel) v[0] += cy;
        out.line_to(cx, v[0]);
        cy = v[0];
        break;
      }
      case 'C': {
        for (int i = 0; i < 6; ++i) if (!num(v[i])) return false;
        if (rel) for (int i = 0; i < 6; i += 2) { v[i] += cx; v[i + 1] += cy; }
        out.cubic_to(v[0], v[1], v[2], v[3], v[4], v[5]);
        lcx = v[2]; lcy = v[3]; cx = v[4]; cy = v[5];
        break;
      }
      case 'S': {
        for (int i = 0; i < 4; ++i) if (!num(v[i])) return false;
        if (rel) for (int i = 0; i < 4; i += 2) { v[i] += cx; v[i + 1] += cy; }
        double x1 = cx, y1 = cy;
        if (prev == 'C' || prev == 'S') { x1 = 2 * cx - lcx; y1 = 2 * cy - lcy; }
        out.cubic_to(x1, y1, v[0], v[1], v[2], v[3]);
        lcx = v[0]; lcy = v[1]; cx = v[2]; cy = v[3];
        break;
      }
      case 'Q': {
        for (int i = 0; i < 4; ++i) if (!num(v[i])) return false;
        if (rel) for (int i = 0; i < 4; i += 2) { v[i] += cx; v[i + 1] += cy; }
        out.quad_to(v[0], v[1], v[2], v[3]);
        lcx = v[0]; lcy = v[1]; cx = v[2]; cy = v[3];
        break;
      }
      case 'T': {
        if (!num(v[0]) || !num(v[1])) return false;
        if (rel) { v[0] += cx; v[1] += cy; }
        double x1 = cx, y1 = cy;
        if (prev == 'Q' || prev == 'T') { x1 = 2 * cx - lcx; y1 = 2 * cy - lcy; }
        out.quad_to(x1, y1, v[0], v[1]);
        lcx = x1; lcy = y1; cx = v[0]; cy = v[1];
        break;
      }
      case 'A': {
        if (!num(v[0]) || !num(v[1]) || !num(v[2]) || !flag(f1) || !flag(f2) || !num(v[3]) ||
            !num(v[4]))
          return false;
        if (rel) { v[3] += cx; v[4] += cy; }
        arc_to(out, cx, cy, v[0], v[1], v[2], f1, f2, v[3], v[4]);
        cx = v[3]; cy = v[4];
        break;
      }
      default:
        return false;
    }
    prev = up;
  }
}

Path parse_points(std::string_view s, bool close) {
  Path p;
  Stream st{s};
  st.skip_ws();
  bool first = true;
  while (!st.at_end()) {
    double x, y;
    if (!st.parse_number(x)) break;
    st.skip_ws_comma();
    if (!st.parse_number(y)) break;
    st.skip_ws_comma();
    if (first) { p.move_to(x, y); first = false; }
    else p.line_to(x, y);
  }
  if (close && !p.empty()) p.close();
  return p;
}

}  // namespace verm::svg
