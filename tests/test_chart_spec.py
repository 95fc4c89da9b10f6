"""Native Vega-Lite-subset chart specs: layout geometry, errors naming features, rendering."""

from __future__ import annotations

import re

import numpy as np
import pytest

from verm.charts import ChartSpecError, render_spec, render_specs, spec_to_svg
from verm.charts.samples import SPEC_MARKS, chart_specs

BAR = {
    "title": "Sales",
    "data": {"values": [{"k": "a", "v": 10}, {"k": "b", "v": 20}, {"k": "c", "v": 40}]},
    "mark": "bar",
    "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}},
}


def _rects(svg: str) -> list[tuple[float, float, float, float, str]]:
    out = []
    for m in re.finditer(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"', svg):
        out.append((float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5]))
    return out


def test_bar_geometry_is_proportional():
    svg = spec_to_svg(BAR)
    bars = _rects(svg)
    assert len(bars) == 3
    heights = [b[3] for b in bars]
    assert heights[1] == pytest.approx(2 * heights[0], rel=1e-3)
    assert heights[2] == pytest.approx(4 * heights[0], rel=1e-3)
    # bars share a baseline and sit in order along x with Vega-Lite's 20 px step
    assert len({round(b[1] + b[3], 2) for b in bars}) == 1
    assert bars[1][0] - bars[0][0] == pytest.approx(20.0)
    assert "Sales" in svg and ">v</text>" in svg and ">k</text>" in svg


def test_stacked_bars_sum():
    spec = {
        "data": {"values": [{"k": "a", "g": "x", "v": 10}, {"k": "a", "g": "y", "v": 30}]},
        "mark": "bar",
        "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"},
                     "color": {"field": "g", "type": "nominal"}},
    }
    bars = [b for b in _rects(spec_to_svg(spec)) if b[2] > 11]  # not legend swatches
    assert len(bars) == 2
    lo = max(bars, key=lambda b: b[1])  # lower on screen
    hi = min(bars, key=lambda b: b[1])
    assert hi[1] + hi[3] == pytest.approx(lo[1], abs=0.02)  # stacked, touching
    assert hi[4] == "#4c78a8"  # first colour of the domain on top, as Vega-Lite
    assert lo[3] == pytest.approx(3 * hi[3], rel=1e-3)


def test_every_mark_renders():
    specs = chart_specs(len(SPEC_MARKS) * 2, seed=1)
    results = render_specs(specs, threads=2)
    for spec, res in zip(specs, results):
        assert res.ok, (spec["mark"], res.status, res.message)
        img = res.image
        assert img.ndim == 3 and img.shape[2] == 4 and min(img.shape[:2]) > 100
        assert len(np.unique(img.reshape(-1, 4), axis=0)) > 4  # not blank


def test_arc_slices_and_temporal_ticks():
    pie = {"data": {"values": [{"c": "a", "v": 1}, {"c": "b", "v": 1}, {"c": "c", "v": 2}]},
           "mark": {"type": "arc", "innerRadius": 40},
           "encoding": {"theta": {"field": "v", "type": "quantitative"}, "color": {"field": "c", "type": "nominal"}}}
    svg = spec_to_svg(pie)
    assert svg.count("<path") == 3
    line = {"data": {"values": [{"d": f"{2000 + i}-01-01", "p": i} for i in range(8)]}, "mark": "line",
            "encoding": {"x": {"field": "d", "type": "temporal"}, "y": {"field": "p", "type": "quantitative"}}}
    svg = spec_to_svg(line)
    assert ">2000</text>" in svg and ">2006</text>" in svg and "<polyline" in svg


@pytest.mark.parametrize("patch,feature", [
    ({"transform": [{"filter": "datum.v > 1"}]}, "transform"),
    ({"layer": []}, "layer"),
    ({"mark": "rect"}, "rect"),
    ({"mark": {"type": "bar", "cornerRadius": 3}}, "cornerRadius"),
    ({"encoding": {**BAR["encoding"], "shape": {"field": "k", "type": "nominal"}}}, "shape"),
    ({"encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"aggregate": "sum", "field": "v", "type": "quantitative"}}}, "aggregate"),
    ({"encoding": {"x": {"field": "k", "type": "nominal", "bin": True}, "y": BAR["encoding"]["y"]}}, "bin"),
    ({"data": {"url": "data/cars.json"}}, "url"),
    ({"encoding": {"x": {"field": "k", "type": "geojson"}, "y": BAR["encoding"]["y"]}}, "geojson"),
])
def test_unsupported_features_are_named(patch, feature):
    spec = {**BAR, **patch}
    with pytest.raises(ChartSpecError, match=feature):
        render_spec(spec)


def test_batch_keeps_going_after_a_bad_spec():
    bad = {**BAR, "mark": "rect"}
    res = render_specs([BAR, bad, BAR])
    assert [r.status for r in res][1] == "unsupported" and "rect" in res[1].message
    assert res[0].ok and res[2].ok
    np.testing.assert_array_equal(res[0].image, res[2].image)


def test_scale_multiplies_size():
    a = render_spec(BAR)
    b = render_spec(BAR, scale=2.0)
    assert abs(b.shape[0] - 2 * a.shape[0]) <= 1 and abs(b.shape[1] - 2 * a.shape[1]) <= 1
