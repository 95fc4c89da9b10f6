"""Raster back end through the SVG front end: raster-heavy documents rendered natively
(fallback off) must match resvg-py by the resvg suite criterion, and hostile geometry must
render (or fail with a typed status) without crashing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

HEAD = "<svg xmlns='http://www.w3.org/2000/svg' width='200' height='200' viewBox='0 0 200 200'>"

DOCS = {
    "joins_caps": """
      <path d='M20 170 L60 30 L100 170 L140 40 Q190 90 170 180' fill='none' stroke='navy'
            stroke-width='14' stroke-linejoin='round' stroke-linecap='round'/>
      <path d='M20 20 L180 30 L30 60' fill='none' stroke='#c33' stroke-width='9'
            stroke-linejoin='miter' stroke-miterlimit='10' stroke-linecap='square'/>
      <polyline points='30,120 60,90 90,120 120,90' fill='none' stroke='green' stroke-width='8'
            stroke-linejoin='bevel'/>""",
    "dashes": """
      <path d='M20 40 H180' stroke='black' stroke-width='6' stroke-dasharray='20 6 2 6'/>
      <path d='M20 80 C60 20 140 140 180 80' fill='none' stroke='teal' stroke-width='5'
            stroke-dasharray='12' stroke-dashoffset='-7' stroke-linecap='round'/>
      <rect x='40' y='110' width='120' height='60' fill='none' stroke='purple' stroke-width='4'
            stroke-dasharray='15 5'/>""",
    "gradients": """
      <linearGradient id='l' x1='0.2' y1='0' x2='0.4' y2='0.3' spreadMethod='reflect'>
        <stop offset='0' stop-color='gold'/><stop offset='1' stop-color='crimson' stop-opacity='0.4'/>
      </linearGradient>
      <radialGradient id='r' cx='0.5' cy='0.5' r='0.3' fx='0.35' fy='0.4' spreadMethod='repeat'
                      gradientTransform='rotate(20 0.5 0.5)'>
        <stop offset='0' stop-color='white'/><stop offset='0.6' stop-color='#36c'/>
        <stop offset='1' stop-color='#013'/>
      </radialGradient>
      <rect x='10' y='10' width='180' height='85' fill='url(#l)'/>
      <ellipse cx='100' cy='145' rx='90' ry='45' fill='url(#r)' stroke='url(#l)' stroke-width='6'/>""",
    "pattern": """
      <pattern id='p' width='25' height='25' patternUnits='userSpaceOnUse'
               patternTransform='rotate(30) scale(1.3)'>
        <rect width='12' height='12' fill='orange'/><circle cx='18' cy='18' r='5' fill='#369'/>
      </pattern>
      <circle cx='100' cy='100' r='85' fill='url(#p)'/>""",
    "stroked_circles": """
      <circle cx='100' cy='100' r='85' fill='none' stroke='black' stroke-width='3'/>
      <circle cx='100' cy='100' r='40' fill='none' stroke='#c60' stroke-width='7'/>""",
    "clip_mask_opacity": """
      <clipPath id='c'><circle cx='80' cy='90' r='60'/><rect x='110' y='100' width='70' height='70'
        transform='rotate(15 145 135)'/></clipPath>
      <mask id='m'><rect width='200' height='200' fill='white'/>
        <circle cx='100' cy='100' r='30' fill='#444'/></mask>
      <g clip-path='url(#c)' mask='url(#m)' opacity='0.8'>
        <rect x='0' y='0' width='200' height='200' fill='seagreen'/>
        <path d='M0 0 L200 200' stroke='yellow' stroke-width='20'/>
      </g>""",
    "blend_modes": """
      <rect x='10' y='10' width='180' height='180' fill='#e8b040'/>
      <g style='mix-blend-mode:multiply'><circle cx='70' cy='70' r='50' fill='#3080e0'/></g>
      <g style='mix-blend-mode:screen'><circle cx='130' cy='70' r='50' fill='#c03060'/></g>
      <g style='mix-blend-mode:difference'><circle cx='70' cy='130' r='50' fill='#40c080'/></g>
      <g style='mix-blend-mode:color-burn'><circle cx='130' cy='130' r='50' fill='#8040c0'/></g>
      <g style='mix-blend-mode:luminosity' opacity='0.7'><rect x='60' y='90' width='80' height='20'
         fill='#20f0f0'/></g>""",
    "evenodd_transforms": """
      <g transform='translate(100 100) skewX(15) scale(0.9 1.1)'>
        <path d='M0 -90 L53 73 L-85 -28 L85 -28 L-53 73 Z' fill='#a3c' fill-rule='evenodd'
              stroke='#111' stroke-width='2'/>
      </g>""",
}


# Known gap, kept visible: tiny-skia offsets curves with quadratic approximations, so the
# edge pixels of stroked circles differ by up to ~0.2 coverage from the exact offset outline
# verm draws (about 0.9% of this image's pixels exceed the suite's 24/255).
LOOSE = {"stroked_circles": 1.5}


def _over_white(a: np.ndarray) -> np.ndarray:
    f = a.astype(np.float32) / 255
    return f[..., :3] * f[..., 3:] + (1 - f[..., 3:])


@pytest.mark.parametrize("name", sorted(DOCS))
def test_native_matches_resvg(name: str) -> None:
    import resvg_py

    from verm.render import render_svgs

    svg = HEAD + DOCS[name] + "</svg>"
    res = render_svgs([svg.encode()], fallback=False)[0]
    assert res.status == "ok", (res.status, res.message)
    ref = np.asarray(Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))
                     .convert("RGBA"))
    assert res.image.shape == ref.shape
    diff = np.abs(_over_white(res.image) - _over_white(ref)).max(-1) * 255
    assert (diff > 24).mean() * 100 <= LOOSE.get(name, 0.5), float((diff > 24).mean() * 100)


_FILTERED = ("<rect x='40' y='40' width='100' height='80' fill='#3a6' stroke='#a36' stroke-width='8'/>"
             "<circle cx='130' cy='120' r='40' fill='#fc4' opacity='0.8'/>")
FILTERS = {
    "blur_small": "<feGaussianBlur stdDeviation='1.2'/>",
    "blur_large_aniso": "<feGaussianBlur stdDeviation='6 2'/>",
    "blur_srgb": "<feGaussianBlur stdDeviation='5' color-interpolation-filters='sRGB'/>",
    "shadow_chain": "<feOffset dx='7' dy='5' in='SourceAlpha' result='o'/><feFlood flood-color='navy' "
                    "flood-opacity='0.6'/><feComposite in2='o' operator='in'/><feMerge><feMergeNode/>"
                    "<feMergeNode in='SourceGraphic'/></feMerge>",
    "saturate": "<feColorMatrix type='saturate' values='0.2'/>",
    "hue_rotate": "<feColorMatrix type='hueRotate' values='120'/>",
    "luminance_to_alpha": "<feColorMatrix type='luminanceToAlpha'/>",
    "arithmetic": "<feFlood flood-color='#48f' result='f'/><feComposite in='SourceGraphic' in2='f' "
                  "operator='arithmetic' k1='0.5' k2='0.5' k3='0.3' k4='0.05'/>",
    "blend_multiply": "<feFlood flood-color='#f84' result='f'/><feBlend in='SourceGraphic' in2='f' "
                      "mode='multiply'/>",
    "drop_shadow": "<feDropShadow dx='6' dy='4' stdDeviation='3' flood-color='black' "
                   "flood-opacity='0.5'/>",
    "component_transfer": "<feComponentTransfer><feFuncR type='table' tableValues='0 0.5 1'/>"
                          "<feFuncG type='discrete' tableValues='0 0.3 0.6 1'/><feFuncB type='gamma' "
                          "amplitude='1.2' exponent='0.5' offset='0.05'/><feFuncA type='linear' "
                          "slope='0.8' intercept='0.1'/></feComponentTransfer>",
    "dilate": "<feMorphology operator='dilate' radius='3 1'/>",
    "erode": "<feMorphology operator='erode' radius='2'/>",
    "tile": "<feOffset x='40' y='40' width='30' height='30' result='t'/><feTile in='t'/>",
    "flood_subregion": "<feFlood flood-color='teal' x='30' y='30' width='60' height='50'/>",
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filters_match_resvg(name: str) -> None:
    import resvg_py

    from verm.render import render_svgs

    svg = (HEAD + "<filter id='f' x='0' y='0' width='200' height='200' filterUnits='userSpaceOnUse'>"
           + FILTERS[name] + "</filter><g filter='url(#f)'>" + _FILTERED + "</g></svg>")
    res = render_svgs([svg.encode()], fallback=False)[0]
    assert res.status == "ok", (res.status, res.message)
    ref = np.asarray(Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))
                     .convert("RGBA"))
    diff = np.abs(_over_white(res.image) - _over_white(ref)).max(-1) * 255
    assert (diff > 24).mean() <= 0.005, float((diff > 24).mean())


HOSTILE = [
    # huge coordinates, far off canvas, extreme transforms, degenerate strokes
    "<path d='M-1e30 -1e30 L1e30 1e30 L1e30 -1e30 Z' fill='red' stroke='blue' stroke-width='1e20'/>",
    "<g transform='scale(1e-30)'><circle cx='5' cy='5' r='5' stroke='black'/></g>",
    "<path d='M10 10 L10 10 Z' stroke='black' stroke-width='50' stroke-linecap='round'/>",
    "<path d='M10 10 L190 190' stroke='black' stroke-width='5' stroke-dasharray='0.0001'/>",
    "<pattern id='p' width='1e-9' height='1e-9' patternUnits='userSpaceOnUse'><rect width='1' "
    "height='1'/></pattern><rect width='200' height='200' fill='url(#p)'/>",
    "<g opacity='0.5' transform='matrix(1e12 0 0 1e12 0 0)'><rect width='1' height='1'/></g>",
    # filters with absurd parameters
    "<filter id='f'><feGaussianBlur stdDeviation='1e30'/></filter>"
    "<rect width='100' height='100' filter='url(#f)'/>",
    "<filter id='f'><feMorphology radius='1e30'/></filter><rect width='100' height='100' filter='url(#f)'/>",
    "<filter id='f'><feOffset dx='1e30' dy='-1e30'/></filter><rect width='100' height='100' filter='url(#f)'/>",
    "<filter id='f' x='-1e9' y='-1e9' width='2e9' height='2e9' filterUnits='userSpaceOnUse'>"
    "<feFlood flood-color='red'/></filter><rect width='100' height='100' filter='url(#f)'/>",
    "<filter id='f'><feDropShadow stdDeviation='1e9' dx='1e9'/></filter>"
    "<rect width='100' height='100' filter='url(#f)'/>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_geometry_is_bounded(body: str) -> None:
    from verm.render import render_svgs

    res = render_svgs([(HEAD + body + "</svg>").encode()], fallback=False)[0]
    assert res.status in ("ok", "error", "unsupported"), res.status
    if res.status == "ok":
        assert res.image.shape == (200, 200, 4)
    assert res.seconds < 10


def test_layer_memory_is_budgeted() -> None:
    """Nested layers (each group with opacity needs one) are charged to a per-render pixel
    budget: deep nesting on a large canvas ends in a typed error, not in unbounded memory."""
    from verm.render import render_svgs

    depth = 40
    body = "<g opacity='0.9'>" * depth + "<rect width='2000' height='2000' fill='red'/>" + "</g>" * depth
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' width='2000' height='2000'>" + body + "</svg>")
    res = render_svgs([svg.encode()], fallback=False)[0]
    assert res.status == "error", (res.status, res.message)
    assert "budget" in res.message
    shallow = ("<svg xmlns='http://www.w3.org/2000/svg' width='2000' height='2000'>"
               + "<g opacity='0.9'>" * 2 + "<rect width='2000' height='2000' fill='red'/>" + "</g>" * 2
               + "</svg>")
    res = render_svgs([shallow.encode()], fallback=False)[0]
    assert res.status == "ok", (res.status, res.message)
