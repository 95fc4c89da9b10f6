"""SVG front end: hand-written documents rendered natively (fallback off) must match resvg-py
by the resvg suite criterion; unsupported features must be reported with countable reason keys."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from verm.render import render_svgs
from verm.render.compare import diff_fraction, suite_pass
from verm.render.svg import SvgRenderOptions, _resvg_render

HEAD = "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' " \
       "width='200' height='200' viewBox='0 0 200 200'>"


def _png_data_uri() -> str:
    rng = np.random.default_rng(0)
    img = (rng.random((12, 16, 4)) * 255).astype(np.uint8)
    img[..., 3] = 255
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _jpeg_data_uri() -> str:
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, :15] = (200, 40, 40)
    img[:, 15:] = (40, 40, 200)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _webp_data_uri(lossless: bool) -> str:
    rng = np.random.default_rng(1)
    img = np.zeros((24, 32, 4), np.uint8)
    img[..., 0] = np.linspace(0, 255, 32, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(255, 0, 24, dtype=np.uint8)[:, None]
    img[..., 2] = (rng.random((24, 32)) * 64).astype(np.uint8)
    img[..., 3] = 255
    img[:6, :6, 3] = 0  # a transparent corner (straight alpha must survive)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="WEBP", lossless=lossless, quality=90)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode()


def _gif_data_uri() -> str:
    buf = io.BytesIO()
    Image.fromarray(np.full((4, 4, 3), 200, np.uint8)).save(buf, format="GIF")
    return "data:image/gif;base64," + base64.b64encode(buf.getvalue()).decode()


DOCS = {
    "css": """
      <style>
        rect { fill: red }
        .a { fill: green }
        #b { fill: blue !important }
        g > .c { stroke: black; stroke-width: 4 }
        g .d:first-child { fill: orange }
        [data-x='1'] { fill: purple }
        .c + rect { stroke: navy; stroke-width: 3 }
        * { stroke-linejoin: round }
      </style>
      <rect class='a' x='10' y='10' width='50' height='50'/>
      <rect id='b' class='a' x='70' y='10' width='50' height='50' style='fill: yellow'/>
      <g><rect class='c d' x='10' y='80' width='50' height='50'/>
         <rect class='d' x='70' y='80' width='50' height='50'/></g>
      <rect data-x='1' x='130' y='80' width='50' height='50'/>
      <g fill='currentColor' color='teal'><circle cx='150' cy='35' r='25'/></g>""",
    "use_symbol_svg": """
      <defs>
        <symbol id='s' viewBox='0 0 10 10'><circle cx='5' cy='5' r='5' fill='navy'/></symbol>
        <g id='g1' fill='inherit'><rect width='30' height='20'/></g>
      </defs>
      <use xlink:href='#s' x='10' y='10' width='60' height='40'/>
      <use href='#g1' x='100' y='10' fill='crimson' opacity='0.5'/>
      <svg x='20' y='100' width='80' height='80' viewBox='0 0 40 20' preserveAspectRatio='xMinYMax meet'>
        <rect width='60' height='20' fill='olive'/>
      </svg>
      <switch><rect systemLanguage='ru' width='10' height='10' fill='red'/>
              <rect x='120' y='120' width='60' height='60' fill='green'/></switch>""",
    "transforms_units": """
      <g transform='translate(100 100) rotate(30) scale(1.2 0.8) skewX(10)'>
        <rect x='-40' y='-20' width='80' height='40' fill='#4a8' stroke='#123' stroke-width='3'/>
      </g>
      <rect x='5%' y='2em' width='10%' height='3em' font-size='10' fill='#a48'
            transform-origin='center' transform='rotate(15)'/>
      <line x1='10' y1='190' x2='190' y2='150' stroke='black' stroke-width='5'/>""",
    "paths": """
      <path d='M20 20 h40 v40 h-40 z m60 0 l20 40 l20 -40 z M150 20 a20 30 15 1 1 1 0 z'
            fill='#c84' stroke='black' fill-rule='evenodd'/>
      <path d='M20 120 C40 80 80 160 100 120 S160 80 180 120 Q150 180 100 170 T20 160'
            fill='blue' fill-opacity='0.5'/>
      <path d='M20 190 L60 180 L 100 190 L' stroke='green' stroke-width='4'/>""",
    "markers": """
      <marker id='m' viewBox='0 0 10 10' refX='5' refY='5' markerWidth='6' markerHeight='6'
              orient='auto-start-reverse'>
        <path d='M0 0 L10 5 L0 10 z' fill='context-stroke'/>
      </marker>
      <polyline points='20,180 60,40 100,160 140,60 180,150' fill='none' stroke='darkred'
                stroke-width='3' marker-start='url(#m)' marker-mid='url(#m)' marker-end='url(#m)'/>""",
    "context_gradient": """
      <linearGradient id='cg' gradientTransform='rotate(45)'>
        <stop offset='0' stop-color='navy'/><stop offset='1' stop-color='gold'/></linearGradient>
      <defs><g id='shape'><rect x='30' y='30' width='80' height='60' fill='context-fill'/>
        <circle cx='130' cy='130' r='40' fill='context-fill' stroke='context-stroke'
                stroke-width='6' transform='rotate(20 130 130)'/></g></defs>
      <use href='#shape' x='10' y='5' fill='url(#cg)' stroke='crimson'/>""",
    "clip_mask": """
      <clipPath id='c' clipPathUnits='objectBoundingBox'><circle cx='0.5' cy='0.5' r='0.5'/></clipPath>
      <mask id='k'><rect width='200' height='200' fill='white'/>
        <rect x='60' y='60' width='80' height='80' fill='#444'/></mask>
      <linearGradient id='l'><stop offset='0' stop-color='red'/><stop offset='1' stop-color='blue'/></linearGradient>
      <rect x='20' y='20' width='160' height='160' fill='url(#l)' clip-path='url(#c)' mask='url(#k)'/>""",
    "pattern_gradients": """
      <pattern id='p' width='20' height='20' patternUnits='userSpaceOnUse' patternTransform='rotate(20)'>
        <rect width='10' height='10' fill='orange'/><circle cx='15' cy='15' r='4' fill='teal'/></pattern>
      <radialGradient id='r' href='#base' fx='0.3'/>
      <radialGradient id='base' r='0.6' spreadMethod='reflect'>
        <stop offset='0.2' stop-color='white'/><stop offset='0.9' stop-color='#335'/></radialGradient>
      <rect x='10' y='10' width='180' height='80' fill='url(#p)' stroke='black'/>
      <ellipse cx='100' cy='145' rx='85' ry='45' fill='url(#r)'/>""",
    "filters": """
      <filter id='f' x='-20%' y='-20%' width='140%' height='140%'>
        <feGaussianBlur in='SourceAlpha' stdDeviation='4' result='b'/>
        <feOffset dx='5' dy='5' result='o'/>
        <feFlood flood-color='navy' flood-opacity='0.6'/>
        <feComposite in2='o' operator='in'/>
        <feMerge><feMergeNode/><feMergeNode in='SourceGraphic'/></feMerge>
      </filter>
      <filter id='g'><feColorMatrix type='saturate' values='0.2'/></filter>
      <rect x='30' y='30' width='80' height='60' fill='orange' filter='url(#f)'/>
      <circle cx='140' cy='140' r='40' fill='crimson' filter='url(#g)'/>""",
    "filter_functions": """
      <filter id='ds' x='-50%' y='-50%' width='200%' height='200%'>
        <feDropShadow dx='4' dy='6' stdDeviation='3' flood-color='navy'/></filter>
      <rect x='20' y='20' width='70' height='70' fill='orange' filter='url(#ds)'/>
      <rect x='110' y='20' width='70' height='70' fill='teal' style='filter: blur(3px)'/>
      <circle cx='55' cy='145' r='35' fill='crimson' style='filter: grayscale(60%) brightness(1.2)'/>
      <circle cx='145' cy='145' r='35' fill='gold' style='filter: hue-rotate(90deg) invert(0.3) opacity(70%)'/>""",
    "opacity_blend": """
      <g opacity='0.6'><rect x='20' y='20' width='100' height='100' fill='blue'/>
        <rect x='60' y='60' width='100' height='100' fill='red' fill-opacity='0.5'/></g>
      <g style='isolation: isolate'><circle cx='120' cy='150' r='40' fill='yellow'/>
        <circle cx='150' cy='150' r='40' fill='teal' style='mix-blend-mode: multiply'/></g>""",
    "nested_svg_image": f"""
      <image x='10' y='10' width='180' height='120' preserveAspectRatio='xMidYMid slice'
             href='data:image/svg+xml;base64,{base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 20'><circle cx='20' cy='10' r='9' fill='purple'/><rect width='40' height='5' fill='gold'/></svg>").decode()}'/>""",
    "images": f"""
      <image x='10' y='10' width='80' height='60' href='{_png_data_uri()}' preserveAspectRatio='none'
             image-rendering='optimizeSpeed'/>
      <image x='100' y='100' width='90' height='90' xlink:href='{_jpeg_data_uri()}'/>""",
    "webp_images": f"""
      <image x='10' y='10' width='120' height='90' href='{_webp_data_uri(True)}'
             preserveAspectRatio='none'/>
      <image x='60' y='100' width='130' height='90' href='{_webp_data_uri(False)}'/>""",
    # context-fill/-stroke resolving to a pattern: through `use` (its transform and the
    # painted elements' own transforms are undone, as usvg does) and through markers.
    "context_pattern_use": """
      <pattern id='cp' patternUnits='userSpaceOnUse' width='20' height='20'>
        <rect width='10' height='10' fill='grey'/><rect x='10' y='10' width='10' height='10'
        fill='green'/></pattern>
      <defs><g id='g1'><rect x='50' y='50' width='100' height='100' fill='context-fill'
          stroke='context-stroke'/>
        <path transform-origin='100 100' transform='rotate(90)' fill='context-fill'
          stroke='context-stroke' d='M 100 15 l 50 160 l -130 -100 l 160 0 l -130 100 Z'/>
        <path transform-origin='100 100' transform='scale(0.8)' fill='context-fill'
          stroke='context-stroke' d='M 100 15 l 50 160 l -130 -100 l 160 0 l -130 100 Z'/></g></defs>
      <use href='#g1' fill='url(#cp)' stroke='url(#cp)'/>""",
    "context_pattern_bbox_units": """
      <pattern id='cq' patternUnits='objectBoundingBox' width='0.25' height='0.25'>
        <rect width='10' height='10' fill='green'/></pattern>
      <defs><g id='g2'><circle cx='40' cy='40' r='30' fill='context-fill' stroke='context-stroke'
        stroke-width='8' transform='scale(1.37)'/></g></defs>
      <use href='#g2' fill='url(#cq)' stroke='url(#cq)' transform='translate(21.7 30) scale(1.45)'/>
      <use href='#g2' x='97.3' fill='url(#cq)' stroke='none'/>""",
    "context_pattern_marker": """
      <pattern id='pm' patternUnits='userSpaceOnUse' width='16' height='16'
               patternTransform='rotate(20) scale(1.1)'>
        <rect width='8' height='8' fill='blue'/><circle cx='12' cy='12' r='4' fill='orange'/></pattern>
      <marker id='mk' markerWidth='30' markerHeight='30' refX='15' refY='15'
              orient='auto-start-reverse' markerUnits='userSpaceOnUse'>
        <rect x='2' y='2' width='26' height='26' fill='context-stroke' stroke='context-fill'
              stroke-width='3'/></marker>
      <path d='M 30 30 L 170 60 L 100 170' fill='url(#pm)' stroke='url(#pm)' stroke-width='6'
            marker-start='url(#mk)' marker-mid='url(#mk)' marker-end='url(#mk)'/>""",
    # feImage with an image href fills the primitive subregion (preserveAspectRatio applies).
    "fe_image": f"""
      <filter id='fi1'><feImage href='{_png_data_uri()}' preserveAspectRatio='none'/></filter>
      <filter id='fi2' primitiveUnits='objectBoundingBox'>
        <feImage x='0.1' y='0.2' width='0.5' height='0.5' preserveAspectRatio='xMaxYMax slice'
                 href='{_jpeg_data_uri()}'/></filter>
      <filter id='fi3' filterUnits='userSpaceOnUse' x='0' y='100' width='200' height='100'>
        <feImage x='13.3' y='117.7' width='77' height='61' href='{_png_data_uri()}'
                 image-rendering='optimizeSpeed' result='img'/>
        <feGaussianBlur stdDeviation='2'/>
        <feComposite in2='SourceGraphic' operator='in'/></filter>
      <rect x='15' y='10' width='80' height='70' fill='red' filter='url(#fi1)'/>
      <rect x='110' y='10' width='80' height='80' fill='red' filter='url(#fi2)'/>
      <circle cx='60' cy='150' r='40' fill='blue' filter='url(#fi3)'/>""",
    "vertical_text_path": """
      <path id='tp' d='M 20 100 C 35 135 85 135 100 100 C 115 65 165 65 180 100' fill='none'
            stroke='gray'/>
      <text font-family='sans-serif' font-size='20' writing-mode='tb'>
        <textPath href='#tp'>Ab&#26085;&#26412;c-d</textPath></text>
      <text font-family='serif' font-size='16' writing-mode='vertical-rl' text-anchor='middle'
            transform='translate(0 60)'><textPath href='#tp' startOffset='50%'>vertical</textPath></text>""",
    # resvg ignores unicode-bidi (its reference draws bidi-override text in bidi order).
    "unicode_bidi": """
      <text x='100' y='60' font-family='DejaVu Sans' font-size='14' text-anchor='middle'
            unicode-bidi='bidi-override' direction='rtl'>This is "&#1502;&#1512;&#1495;&#1489;&#1488;" text.</text>
      <text x='20' y='120' font-family='DejaVu Sans' font-size='16'><tspan
            unicode-bidi='embed' direction='rtl'>abc &#1513;&#1500;&#1493;&#1501;</tspan> def</text>""",
    "text": """
      <text x='20' y='50' font-family='sans-serif' font-size='24' fill='#234'>Hello <tspan
        fill='crimson' font-weight='bold'>verm</tspan></text>
      <text x='100' y='120' text-anchor='middle' font-family='serif' font-size='20'
            dx='0 3 3' rotate='0 10'>middle</text>""",
}


def _render(doc: str) -> tuple:
    data = (HEAD + doc + "</svg>").encode()
    (native,) = render_svgs([data], fallback=False)
    ref = _resvg_render(data, SvgRenderOptions())
    return native, ref


@pytest.mark.parametrize("name", sorted(DOCS))
def test_native_matches_resvg(name):
    native, ref = _render(DOCS[name])
    assert native.status == "ok", native.message
    assert native.image.shape == ref.shape
    assert suite_pass(native.image, ref), f"{name}: {diff_fraction(native.image, ref):.4f} differ"


@pytest.mark.parametrize("width,height,expected", [
    (None, None, (50, 100)), (300, None, (150, 300)), (None, 25, (25, 50)), (300, 10, (10, 20)),
    (300, 300, (150, 300)),
])
def test_output_size_follows_resvg(width, height, expected):
    doc = b"<svg xmlns='http://www.w3.org/2000/svg' width='100' height='50'><rect width='10' height='10'/></svg>"
    (res,) = render_svgs([doc], width=width, height=height, fallback=False)
    assert res.status == "ok", res.message
    assert res.image.shape[:2] == expected
    ref = _resvg_render(doc, SvgRenderOptions(width=width, height=height))
    assert ref.shape[:2] == expected


@pytest.mark.parametrize("doc,reason", [
    ("<filter id='f'><feTurbulence baseFrequency='0.05'/></filter>"
     "<rect width='50' height='50' filter='url(#f)'/>", "filter:feTurbulence"),
    ("<filter id='f'><feImage href='#r'/></filter><rect id='r' width='9' height='9'/>"
     "<rect width='50' height='50' filter='url(#f)'/>", "filter:feImage-element"),
    ("<rect width='50' height='50' style='filter: drop-shadow(2px 2px navy)'/>",
     "filter:feDropShadow-srgb"),
    (f"<image width='50' height='50' href='{_gif_data_uri()}'/>", "image:gif"),
])
def test_unsupported_reason_keys(doc, reason):
    data = (HEAD + doc + "</svg>").encode()
    (native,) = render_svgs([data], fallback=False)
    assert native.status == "unsupported"
    assert native.message == reason
    (fb,) = render_svgs([data], fallback=True)
    assert fb.status == "fallback" and fb.image is not None
    assert fb.extra["native_reason"] == reason


def test_invalid_filter_reference_hides_element():
    data = (HEAD + "<rect width='200' height='200' fill='red' filter='url(#missing)'/></svg>").encode()
    (native,) = render_svgs([data], fallback=False)
    assert native.status == "ok"
    assert native.image[..., 3].max() == 0
