"""Text engine: font discovery, CSS font matching, shaping/measuring, fallback, thread safety."""

from __future__ import annotations

import concurrent.futures as cf

import pytest

from verm import _core
from verm.fonts import FONT_DIR, get_fontdb


@pytest.fixture(scope="module")
def db():
    return get_fontdb()


def test_finds_shipped_dejavu(db):
    fams = db.families()
    for name in ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono"):
        assert name in fams
    assert db.face_count() >= 10


def test_empty_dirs_have_no_faces(tmp_path):
    empty = _core.FontDB([str(tmp_path)])
    assert empty.face_count() == 0
    assert empty.families() == []
    assert empty.measure(["abc"], ["sans-serif"], 12.0) == [0.0]
    assert empty.match(["sans-serif"]) == {}


def test_family_weight_style_matching(db):
    m = db.match(["DejaVu Serif"], 700, True)
    assert (m["family"], m["weight"], m["style"]) == ("DejaVu Serif", 700, "italic")
    # Family names are case-insensitive; unknown families fall through the list.
    assert db.match(["no such font", "dejavu sans mono"])["family"] == "DejaVu Sans Mono"
    # Generic families map through the configured generics.
    assert db.match(["monospace"])["family"] == "DejaVu Sans Mono"
    assert db.match(["sans-serif"])["family"] == "DejaVu Sans"
    # Nothing matches -> serif, as resvg.
    assert db.match(["no such font"])["family"] == "DejaVu Serif"
    assert db.match([])["family"] == "DejaVu Serif"
    # CSS weight matching: 900 -> the boldest available below, 300 -> the lightest above.
    assert db.match(["DejaVu Sans"], 900)["weight"] == 700
    assert db.match(["DejaVu Sans"], 300)["weight"] == 400
    assert db.match(["DejaVu Sans"], 500)["weight"] == 400
    assert db.match(["DejaVu Sans"], 600)["weight"] == 700
    # Italic request without an italic face in the family -> normal face of that family.
    assert db.match(["DejaVu Sans Mono"], 400, True)["style"] == "normal"


def test_generic_override():
    d = _core.FontDB([str(FONT_DIR)])
    d.set_generic("sans-serif", "DejaVu Serif")
    assert d.match(["sans-serif"])["family"] == "DejaVu Serif"


def test_measure_monotonic_and_linear(db):
    text = "The quick brown fox jumps over the lazy dog"
    prefixes = [text[:i] for i in range(len(text) + 1)]
    w = db.measure(prefixes, ["sans-serif"], 12.0)
    assert w[0] == 0.0
    assert all(b >= a for a, b in zip(w, w[1:]))
    assert w[-1] > 100
    w24 = db.measure([text], ["sans-serif"], 24.0)[0]
    assert w24 == pytest.approx(2 * w[-1], rel=1e-9)
    # Monospace: every character has the same advance.
    mono = db.measure(["iiii", "WWWW", "...."], ["monospace"], 10.0)
    assert mono[0] == pytest.approx(mono[1]) == pytest.approx(mono[2])
    # Bold is wider than regular, different families differ.
    reg, bold = db.measure(["Hello"], ["DejaVu Sans"], 12.0)[0], db.measure(["Hello"], ["DejaVu Sans"], 12.0, 700)[0]
    assert bold > reg
    assert db.measure(["Hello"], ["DejaVu Serif"], 12.0)[0] != pytest.approx(reg)


def test_measure_consistent_with_shape(db):
    for s in ["Hello, world", "AVATAR To", "ﬁne ligature", "12345.678"]:
        shaped = db.shape(s, ["sans-serif"], 16.0)
        assert shaped["advance"] == pytest.approx(db.measure([s], ["sans-serif"], 16.0)[0], rel=1e-12)
        assert not shaped["missing_glyphs"]
        x, y, w, h = shaped["ink"]
        assert w > 0 and h > 0 and y < 0  # glyphs sit above the baseline (y down)
        assert shaped["ascent"] > 0 and shaped["descent"] > 0


def test_kerning_applied(db):
    # HarfBuzz applies the font's kerning: "AV" is narrower than "A" + "V".
    av, a, v = db.measure(["AV", "A", "V"], ["DejaVu Sans"], 100.0)
    assert av < a + v - 1


def test_missing_glyph_box(db):
    # U+E000 (private use) is in no shipped font: a missing-glyph box is drawn and measured.
    shaped = db.shape("a\ue000b", ["sans-serif"], 20.0)
    assert shaped["missing_glyphs"]
    x, y, w, h = shaped["ink"]
    assert w > 0 and h > 0
    both = db.measure(["ab"], ["sans-serif"], 20.0)[0]
    assert shaped["advance"] > both


def test_fallback_to_other_face(db):
    # U+203B (reference mark) is in DejaVu Sans but not in DejaVu Serif: falls back, no box.
    shaped = db.shape("a\u203bb", ["DejaVu Serif"], 20.0)
    assert not shaped["missing_glyphs"]


def test_threads_share_one_db(db):
    texts = [f"row {i}: value {i * 3.14159:.3f} ±" for i in range(400)]
    expected = db.measure(texts, ["sans-serif"], 11.0)

    def work(k):
        fam = ["serif"] if k % 2 else ["sans-serif"]
        return k, db.measure(texts, fam, 11.0), db.shape(texts[k], fam, 11.0)["advance"]

    with cf.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(work, range(32)))
    serif = db.measure(texts, ["serif"], 11.0)
    for k, widths, adv in results:
        assert widths == (serif if k % 2 else expected)
        assert adv == pytest.approx(widths[k])


def test_right_to_left_text_is_shaped(db):
    # Arabic letters join (contextual forms): the word is not the sum of isolated letters.
    word = "\u0645\u0631\u062d\u0628\u0627"  # marhaba
    shaped = db.shape(word, ["DejaVu Sans"], 20.0)
    assert not shaped["missing_glyphs"]
    letters = db.measure(list(word), ["DejaVu Sans"], 20.0)
    assert shaped["advance"] > 0
    assert shaped["advance"] != pytest.approx(sum(letters), rel=1e-3)
    # Mixed direction text measures as the sum of its runs (no glyph lost).
    mixed = db.measure(["abc " + word + " 123"], ["DejaVu Sans"], 20.0)[0]
    parts = db.measure(["abc ", word, " 123"], ["DejaVu Sans"], 20.0)
    assert mixed == pytest.approx(sum(parts), rel=0.02)


def _text_svgs(n: int) -> list[str]:
    fams = ["sans-serif", "serif", "monospace", "DejaVu Sans", "no such font"]
    out = []
    for i in range(n):
        fam = fams[i % len(fams)]
        out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="60">'
            f'<text x="5" y="25" font-family="{fam}" font-size="{12 + i % 7}" '
            f'font-weight="{"bold" if i % 2 else "normal"}" letter-spacing="{i % 3}">'
            f'Row {i} <tspan fill="red" dy="3" text-decoration="underline">ÅÉ ﬁ {i * 7}</tspan>'
            f'<tspan x="5" y="50" text-anchor="start" font-style="italic">\u0645\u0631\u062d\u0628\u0627 {i}</tspan>'
            f"</text></svg>")
    return out


def test_render_svgs_with_threads_matches_single_thread():
    from verm.render import render_svgs

    svgs = _text_svgs(48)
    one = render_svgs(svgs, threads=1, fallback=False)
    many = render_svgs(svgs, threads=8, fallback=False)
    for a, b in zip(one, many):
        assert a.status == "ok", a.message  # text is drawn natively, not by the fallback
        assert b.status == "ok", b.message
        assert (a.image == b.image).all()
        assert (a.image[..., 3] > 0).sum() > 200  # glyphs were drawn


def _ink(svg: str):
    """Ink bounding box (x0, y0, x1, y1) of a natively rendered SVG, in pixels."""
    import numpy as np

    from verm.render import render_svg

    img = render_svg(svg, fallback=False)
    ys, xs = np.nonzero(img[..., 3] > 64)
    assert len(xs), "nothing drawn"
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def _doc(body: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">{body}</svg>'


def test_layout_anchor_spacing_and_baseline():
    t = 'font-family="DejaVu Sans" font-size="20"'
    start = _ink(_doc(f'<text x="100" y="50" {t}>Hello</text>'))
    middle = _ink(_doc(f'<text x="100" y="50" {t} text-anchor="middle">Hello</text>'))
    end = _ink(_doc(f'<text x="100" y="50" {t} text-anchor="end">Hello</text>'))
    assert start[0] >= 99 and end[2] <= 101
    assert abs((middle[0] + middle[2]) / 2 - 100) <= 2
    spaced = _ink(_doc(f'<text x="10" y="50" {t} letter-spacing="5">Hello</text>'))
    plain = _ink(_doc(f'<text x="10" y="50" {t}>Hello</text>'))
    assert (spaced[2] - spaced[0]) - (plain[2] - plain[0]) == pytest.approx(20, abs=2)  # 4 gaps
    up = _ink(_doc(f'<text x="10" y="50" {t}><tspan baseline-shift="10">Hello</tspan></text>'))
    assert plain[1] - up[1] == pytest.approx(10, abs=1)
    dy = _ink(_doc(f'<text x="10" y="50" dy="7" {t}>Hello</text>'))
    assert dy[1] - plain[1] == pytest.approx(7, abs=1)


def test_layout_decoration_and_text_path():
    t = 'font-family="DejaVu Sans" font-size="20"'
    plain = _ink(_doc(f'<text x="10" y="40" {t}>xxxx</text>'))
    under = _ink(_doc(f'<text x="10" y="40" {t} text-decoration="underline">xxxx</text>'))
    assert under[3] > plain[3] + 1  # the underline sits below the baseline
    over = _ink(_doc(f'<text x="10" y="40" {t} text-decoration="overline">xxxx</text>'))
    assert over[1] < plain[1] - 3  # the overline sits at the ascent, above x-height glyphs
    # Text on a vertical path runs downwards.
    on_path = _ink(_doc('<path id="p" d="M 100 5 L 100 95"/>'
                        f'<text {t}><textPath href="#p">abcd</textPath></text>'))
    assert on_path[3] - on_path[1] > on_path[2] - on_path[0]



def test_huge_text_element_is_a_clear_error():
    from verm.render import render_svgs

    doc = _doc('<text y="50">' + "ab " * 90_000 + "</text>")
    r = render_svgs([doc], fallback=False)[0]
    assert r.status == "error"
    assert "characters in one <text>" in r.message
