"""verm.extract over a corpus of realistic policy responses."""

from __future__ import annotations

import pytest

from verm.extract import extract

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="10" fill="red"/></svg>'
PY = "import matplotlib.pyplot as plt\nplt.bar([1, 2], [3, 4])\nplt.title('Sales')"
MD = "| Name | Qty |\n|---|---:|\n| apple | 3 |\n| pear | 5 |"
HTML = "<table><tr><th>A</th></tr><tr><td>1</td></tr></table>"
LATEX = "\\begin{tabular}{|l|r|}\\hline A & 1 \\\\ \\hline\\end{tabular}"


def test_last_fenced_block_of_the_right_language_wins():
    resp = f"First try:\n```python\nprint(1)\n```\nBetter:\n```python\n{PY}\n```\nDone."
    ex = extract(resp, "chart")
    assert ex.code == PY and ex.language == "python" and ex.kind == "chart" and ex.source == "fence"


def test_kind_filters_languages():
    resp = f"```svg\n{SVG}\n```\n\nand the code\n```python\n{PY}\n```"
    assert extract(resp, "svg").code == SVG
    assert extract(resp, "chart").code == PY
    assert extract(resp, "auto").kind == "chart"  # the last block decides
    assert extract(resp, "table") is None


def test_think_blocks_are_ignored():
    resp = f"<think>maybe ```python\nprint('draft')\n``` no</think>\nHere it is:\n```python\n{PY}\n```"
    assert extract(resp, "chart").code == PY
    only_think = f"<think>```python\n{PY}\n```</think>"
    assert extract(only_think, "chart") is None
    # an unclosed think block (truncated) swallows the rest
    assert extract(f"<think>thinking ```python\n{PY}\n```", "chart") is None


@pytest.mark.parametrize("lang", ["svg", "xml", "html"])
def test_svg_in_svg_xml_or_html_fences(lang):
    ex = extract(f"```{lang}\n{SVG}\n```", "svg")
    assert ex.code == SVG and ex.kind == "svg"


def test_xml_prolog_is_kept():
    code = '<?xml version="1.0"?>\n' + SVG
    assert extract(f"```xml\n{code}\n```", "svg").code == code


def test_raw_svg_without_fence():
    resp = f"Sure! Here is the icon: {SVG} Hope it helps."
    ex = extract(resp, "svg")
    assert ex.code == SVG and ex.source == "raw_svg" and not ex.repaired


def test_nested_svg_elements_take_the_outermost():
    nested = '<svg xmlns="http://www.w3.org/2000/svg"><svg x="5"><rect width="3" height="3"/></svg></svg>'
    assert extract(f"text {nested} more", "svg").code == nested


def test_truncated_svg_is_repaired():
    resp = 'Here:\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/><circ'
    ex = extract(resp, "svg")
    assert ex.repaired and ex.code.endswith("</svg>") and "<circ" not in ex.code
    from verm.render import render_svgs

    assert render_svgs([ex.code])[0].ok


def test_truncated_fence_runs_to_the_end():
    resp = f"```svg\n{SVG[:-6]}"  # cut inside the closing tag, fence never closed
    ex = extract(resp, "svg")
    assert ex.truncated and ex.repaired and ex.code.endswith("</svg>")
    ex = extract("```python\nimport matplotlib.pyplot as plt\nplt.plot([1,", "chart")
    assert ex.truncated and ex.code.startswith("import matplotlib")


def test_nested_fences_with_a_longer_outer_fence():
    resp = f"````markdown\nExample usage:\n```python\n{PY}\n```\n````"
    ex = extract(resp, "chart")
    assert ex is not None and ex.code == PY


def test_untagged_fences_are_sniffed():
    assert extract(f"```\n{PY}\n```", "chart").code == PY
    assert extract(f"```\n{SVG}\n```", "auto").kind == "svg"
    assert extract(f"```\n{MD}\n```", "table").language == "markdown"


@pytest.mark.parametrize("lang,code,norm", [
    ("markdown", MD, "markdown"), ("md", MD, "markdown"), ("html", HTML, "html"),
    ("latex", LATEX, "latex"), ("tex", LATEX, "latex"),
])
def test_table_fences(lang, code, norm):
    ex = extract(f"The table:\n```{lang}\n{code}\n```", "table")
    assert ex.code == code and ex.language == norm and ex.kind == "table"


def test_bare_tables():
    assert extract(f"Here you go:\n\n{MD}\n\nAnything else?", "table").code == MD
    ex = extract(f"Result: {HTML} done", "table")
    assert ex.code == HTML and ex.language == "html" and ex.source == "bare_table"
    assert extract(f"Result: {LATEX}", "table").language == "latex"
    # the last bare table wins
    two = f"{MD}\n\nfixed:\n\n| A |\n|---|\n| 1 |"
    assert extract(two, "table").code == "| A |\n|---|\n| 1 |"


def test_truncated_html_table_is_returned():
    ex = extract("Sure: <table><tr><td>1</td><td>2", "table")
    assert ex is not None and ex.truncated and ex.code.startswith("<table>")


def test_nothing_to_extract():
    assert extract("", "auto") is None
    assert extract("I cannot draw that.", "auto") is None
    assert extract("```python\n\n```", "chart") is None
    assert extract("Use `plt.plot` inline code only.", "chart") is None


def test_bad_kind_raises():
    with pytest.raises(ValueError):
        extract("x", "video")


def test_html_table_block_is_not_svg():
    resp = f"```html\n{HTML}\n```"
    assert extract(resp, "svg") is None
    assert extract(resp, "auto").kind == "table"


def test_tilde_fences_and_indented_info():
    assert extract(f"~~~python\n{PY}\n~~~", "chart").code == PY
    assert extract(f"```Python  title='x'\n{PY}\n```", "chart").code == PY
