"""Hostile and broken SVG input through verm.render.render_svgs: every case gets a typed status
with a clear message, in bounded time and memory, and the process survives. Nothing outside
resources_dir is read, nothing is fetched, and the resvg fallback never sees a rejected document."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from verm.render import render_svgs

SVG = "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' " \
      "width='100' height='100'>{}</svg>"


def _one(doc, **kw):
    t0 = time.perf_counter()
    (res,) = render_svgs([doc], **kw)
    return res, time.perf_counter() - t0


def billion_laughs() -> str:
    ents = "<!ENTITY lol 'lol'>" + "".join(
        f"<!ENTITY lol{i} '{('&lol' + (str(i - 1) if i > 1 else '') + ';') * 10}'>" for i in range(1, 10))
    return f"<?xml version='1.0'?><!DOCTYPE svg [{ents}]>" + SVG.format("<text>&lol9;</text>")


@pytest.mark.parametrize("fallback", [False, True])
def test_entity_bomb_is_an_error(fallback):
    res, dt = _one(billion_laughs(), fallback=fallback)
    assert res.status == "error" and res.image is None
    assert "entity" in res.message
    assert dt < 5


def test_quadratic_blowup_is_bounded():
    big = "x" * 100_000
    doc = f"<!DOCTYPE svg [<!ENTITY a '{big}'>]>" + SVG.format("<desc>" + "&a;" * 2000 + "</desc>")
    res, dt = _one(doc, fallback=True, max_input_bytes=8 << 20)
    assert res.status == "error" and "entity" in res.message
    assert dt < 5


def test_entity_loop_is_an_error():
    doc = "<!DOCTYPE svg [<!ENTITY a '&b;'><!ENTITY b '&a;'>]>" + SVG.format("<desc>&a;</desc>")
    res, _ = _one(doc, fallback=True)
    assert res.status == "error" and "loop" in res.message


@pytest.mark.parametrize("decl", [
    "<!ENTITY ext SYSTEM 'file:///etc/passwd'>",
    "<!ENTITY ext PUBLIC 'x' 'http://example.com/x'>",
    "<!ENTITY % pe SYSTEM 'http://example.com/x.dtd'> %pe;",
])
def test_external_entities_are_rejected(decl):
    doc = f"<!DOCTYPE svg [{decl}]>" + SVG.format("<text>&ext;</text>")
    res, _ = _one(doc, fallback=True)
    assert res.status == "error"
    assert "entit" in res.message and "not allowed" in res.message


def test_benign_internal_entity_is_expanded_natively():
    doc = "<!DOCTYPE svg [<!ENTITY c 'green'>]>" + SVG.format("<rect width='100' height='100' fill='&c;'/>")
    res, _ = _one(doc, fallback=False)
    assert res.status == "ok"
    assert tuple(res.image[50, 50]) == (0, 128, 0, 255)


def test_deep_nesting_is_an_error_not_a_crash():
    depth = 100_000
    doc = SVG.format("<g>" * depth + "<rect width='1' height='1'/>" + "</g>" * depth)
    res, dt = _one(doc, fallback=True)
    assert res.status == "error" and "nesting" in res.message
    assert dt < 10


def test_use_expansion_bomb_is_bounded():
    defs = "<rect id='r0' width='1' height='1'/>" + "".join(
        f"<g id='r{i}'>" + f"<use xlink:href='#r{i - 1}'/>" * 10 + "</g>" for i in range(1, 9))
    res, dt = _one(SVG.format(f"<defs>{defs}</defs><use xlink:href='#r8'/>"), fallback=True)
    assert res.status == "error" and "max_elements" in res.message
    assert dt < 30


def test_nested_context_paint_uses_stay_linear():
    # Each level of `use` with a gradient context measures its content once: no 2^depth blowup.
    levels = 18
    defs = "<linearGradient id='lg'><stop offset='0' stop-color='red'/><stop offset='1'/></linearGradient>"
    defs += "<rect id='u0' width='10' height='10' fill='context-fill'/>"
    defs += "".join(f"<g id='u{i}'><use href='#u{i - 1}' fill='url(#lg)'/><rect width='5' height='5' "
                    f"fill='context-fill'/></g>" for i in range(1, levels))
    doc = SVG.format(f"<defs>{defs}</defs><use href='#u{levels - 1}' fill='url(#lg)'/>")
    res, dt = _one(doc, fallback=False)
    assert res.status == "ok", res.message
    assert dt < 5


@pytest.mark.parametrize("attrs", ["width='1e9' height='1e9'", "width='100000' height='100000'",
                                   "viewBox='0 0 1e12 1e12' width='1e12'"])
def test_huge_canvas_hits_max_pixels(attrs):
    doc = f"<svg xmlns='http://www.w3.org/2000/svg' {attrs}><rect width='10' height='10'/></svg>"
    res, dt = _one(doc, fallback=True)
    assert res.status == "error" and "max_pixels" in res.message
    assert dt < 5


def test_max_pixels_is_configurable():
    doc = "<svg xmlns='http://www.w3.org/2000/svg' width='200' height='200'/>"
    assert _one(doc, max_pixels=100 * 100)[0].status == "error"
    assert _one(doc, max_pixels=200 * 200)[0].status == "ok"


@pytest.mark.parametrize("bad", ["NaN", "inf", "-Infinity", "1e400", "nan%"])
def test_nan_inf_numbers(bad):
    doc = SVG.format(f"<rect x='{bad}' y='10' width='{bad}' height='50' fill='red'/>"
                     f"<circle cx='50' cy='50' r='20' transform='scale({bad})'/>"
                     f"<path d='M 10 10 L {bad} 20 L 30 30'/>"
                     "<rect x='60' y='60' width='30' height='30' fill='green'/>")
    res, _ = _one(doc, fallback=False)
    assert res.status == "ok", res.message
    assert tuple(res.image[75, 75]) == (0, 128, 0, 255)
    assert np.isfinite(res.image).all()


def test_nan_size_falls_back_to_content_size_as_resvg():
    # Invalid width/height/viewBox are ignored: the size comes from the content bbox (resvg).
    doc = ("<svg xmlns='http://www.w3.org/2000/svg' width='NaN' height='inf' viewBox='0 0 nan 1'>"
           "<rect width='10' height='20'/></svg>")
    res, _ = _one(doc, fallback=False)
    assert res.status == "ok"
    assert res.image.shape == (20, 10, 4)


def test_zero_or_negative_size_is_an_error():
    res, _ = _one("<svg xmlns='http://www.w3.org/2000/svg' width='-5' height='10'/>", fallback=False)
    assert res.status == "error" and "size" in res.message


def test_malformed_path_renders_valid_prefix():
    prefix = "M 10 10 L 90 10 L 90 90 Z"
    good, _ = _one(SVG.format(f"<path d='{prefix}'/>"), fallback=False)
    bad, _ = _one(SVG.format(f"<path d='{prefix} L 50 x 60 L 10 90'/>"), fallback=False)
    assert good.status == bad.status == "ok"
    assert np.array_equal(good.image, bad.image)
    assert good.image[..., 3].sum() > 0


def test_large_input_is_bounded():
    body = "<rect width='1' height='1'/>" * (50 * 1024 * 1024 // 28)
    doc = SVG.format(body).encode()
    assert len(doc) >= 50 * 1024 * 1024
    res, _ = _one(doc, fallback=True, max_input_bytes=16 << 20)
    assert res.status == "error" and "max_input_bytes" in res.message


def test_50mb_input_within_limits_renders():
    rect = "<rect x='1' y='1' width='2' height='2' fill='blue'/>"
    doc = SVG.format(f"<!-- {'x' * (50 * 1024 * 1024)} -->" + rect).encode()
    res, dt = _one(doc, fallback=False)
    assert res.status == "ok", res.message
    assert dt < 30


@pytest.mark.parametrize("raw", [b"\xff\xfe<\x00s\x00", b"<svg xmlns='http://www.w3.org/2000/svg'>\xc3\x28</svg>",
                                 b"\x00\x01\x02", b""])
def test_non_utf8_and_garbage(raw):
    res, _ = _one(raw, fallback=True)
    assert res.status == "error" and res.message


def test_files_outside_resources_dir_are_never_read(tmp_path):
    inside = tmp_path / "res"
    inside.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not an image")
    for href in ("../secret.png", str(secret), "file://" + str(secret)):
        doc = SVG.format(f"<image width='10' height='10' xlink:href='{href}'/><text>needs fallback</text>")
        res, _ = _one(doc, fallback=True, resources_dir=str(inside))
        assert res.status == "error", href
        assert "never read" in res.message


def test_no_resources_dir_means_no_file_reads(tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    res, _ = _one(SVG.format("<image width='10' height='10' href='a.png'/>"), fallback=True)
    assert res.status == "error" and "resources_dir" in res.message


def test_links_and_external_use_are_not_file_reads(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    doc = SVG.format("<a href='index.html'><rect width='10' height='10'/></a><use href='index.html#x'/>")
    res, _ = _one(doc, fallback=False)
    assert res.status == "ok", res.message


def test_urls_are_never_fetched():
    doc = SVG.format("<image width='50' height='50' href='https://example.invalid/x.png'/>"
                     "<rect x='60' y='60' width='30' height='30' fill='green'/>")
    res, dt = _one(doc, fallback=False)
    assert res.status == "ok"  # drawn without the image, as resvg does; nothing fetched
    assert res.image[25, 25, 3] == 0
    assert dt < 2


def test_image_inside_resources_dir_is_read(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((4, 4, 3), (255, 0, 0), np.uint8)).save(tmp_path / "red.png")
    doc = SVG.format("<image width='100' height='100' href='red.png' preserveAspectRatio='none'/>")
    res, _ = _one(doc, fallback=False, resources_dir=str(tmp_path))
    assert res.status == "ok"
    assert tuple(res.image[50, 50]) == (255, 0, 0, 255)


def test_process_survives_a_batch_of_bad_items():
    docs = [billion_laughs(), b"\xff", SVG.format("<path d='M 0 0 L'/>"), "<svg", SVG.format("")]
    res = render_svgs(docs, fallback=True, threads=2)
    assert [r.status for r in res][:2] == ["error", "error"]
    assert res[4].status == "ok"
    assert os.getpid() > 0
