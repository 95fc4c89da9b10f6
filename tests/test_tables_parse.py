"""verm.tables.parse: Markdown / HTML / LaTeX -> canonical grid."""

from __future__ import annotations

import pytest

from verm.tables import TableLimits, TableParseError, detect_format, parse
from verm.tables.model import _hex_color
from verm.tables.synth import random_table_code

pytest.importorskip("lxml")


def _key(t, *, styles=True):
    out = []
    for c in t.cells:
        k = (c.row, c.col, c.rowspan, c.colspan, c.text, c.header, c.bold, c.italic,
             c.effective_align())
        if styles:
            k += (_hex_color(c.background) if c.background else None,)
        out.append(k)
    return sorted(out)


@pytest.mark.parametrize("fmt", ["html", "latex", "markdown"])
def test_round_trip_random_tables(fmt):
    """Serialising a random grid to a format and parsing it back gives the same grid."""
    for seed in range(120):
        code, table = random_table_code(seed, fmt, tricky=True)
        assert detect_format(code) == fmt
        got = parse(code)
        assert (got.n_rows, got.n_cols) == (table.n_rows, table.n_cols), code
        styles = fmt != "markdown"  # Markdown has no cell backgrounds
        assert _key(got, styles=styles) == _key(table, styles=styles), code
        again = parse(getattr(got, f"to_{fmt}")(), fmt)
        assert _key(again, styles=styles) == _key(got, styles=styles)


def test_cross_format_round_trip_keeps_structure():
    code, table = random_table_code(7, "html")
    via_latex = parse(parse(code).to_latex())
    assert _key(via_latex) == _key(table)


# -- Markdown -----------------------------------------------------------------------------

def test_markdown_alignment_and_escaped_pipes():
    t = parse("Intro text\n\n| Name | A \\| B | C |\n|:-----|---:|:-:|\n| **x** | `p\\|q` | *i* |\n"
              "| short |\n\nAfter")
    assert t.fmt == "markdown" and (t.n_rows, t.n_cols) == (3, 3)
    head = t.rows()[0]
    assert [c.text for c in head] == ["Name", "A | B", "C"]
    assert all(c.header and c.bold for c in head)
    assert [c.align for c in head] == ["left", "right", "center"]
    r1 = t.rows()[1]
    assert r1[0].text == "x" and r1[0].bold and not r1[0].header
    assert r1[1].text == "p|q"
    assert r1[2].text == "i" and r1[2].italic
    assert [c.text for c in t.rows()[2]] == ["short", "", ""]  # padded like GFM


def test_markdown_without_outer_pipes_and_extra_cells():
    t = parse("a | b\n--- | ---\n1 | 2 | 3\n")
    assert (t.n_rows, t.n_cols) == (2, 2)
    assert [c.text for c in t.rows()[1]] == ["1", "2"]  # extra cells are dropped (GFM)


def test_markdown_br_and_code_fence():
    t = parse("```markdown\n| h |\n|---|\n| one<br>two |\n```")
    assert t.cells[1].text == "one\ntwo"


def test_markdown_inline_html():
    t = parse("| a | b |\n|--|--|\n| <b>x</b> | <em>y</em> z<sup>2</sup> |")
    assert [(c.text, c.bold, c.italic) for c in t.rows()[1]] == [("x", True, False),
                                                                ("y z2", False, False)]


# -- HTML -----------------------------------------------------------------------------------

HTML = """<table border=1>
 <thead><tr><th>Region</th><th colspan="2" style="text-align:right">Sales</th></tr></thead>
 <tbody>
  <tr><td rowspan=2><strong>North</strong></td><td>1<br/>2</td>
      <td style="background-color: #eeeeee; font-weight: bold; border: 2px solid red">3</td></tr>
  <tr><td><em>q</em> <b>x</b></td><td align=center>5</td></tr>
  <tr><td>Total<td>6<td>7
 </tbody>
</table>"""


def test_html_structure_spans_and_styles():
    t = parse(HTML)
    assert t.fmt == "html" and (t.n_rows, t.n_cols) == (4, 3)
    g = t.grid()
    assert g[1][0] == g[2][0]  # rowspan
    assert g[0][1] == g[0][2]  # colspan
    sales = t.cells[g[0][1]]
    assert sales.header and sales.bold and sales.align == "right" and sales.colspan == 2
    north = t.cells[g[1][0]]
    assert north.text == "North" and north.bold and north.rowspan == 2
    c = t.cells[g[1][1]]
    assert c.text == "1\n2"
    styled = t.cells[g[1][2]]
    assert styled.bold and styled.background == "#eeeeee" and styled.border == 2.0
    mixed = t.cells[g[2][1]]
    assert mixed.text == "q x" and not mixed.bold and not mixed.italic
    assert t.cells[g[2][2]].align == "center"
    assert [t.cells[g[3][k]].text for k in range(3)] == ["Total", "6", "7"]  # unclosed tags


def test_html_rowspan_past_the_end_is_clamped_like_browsers():
    t = parse("<table><tr><td rowspan=5>a</td><td>b</td></tr><tr><td>c</td></tr></table>")
    assert (t.n_rows, t.n_cols) == (2, 2)
    assert t.cells[0].rowspan == 2


def test_html_ragged_rows_leave_uncovered_slots():
    t = parse("<table><tr><td>a</td><td>b</td><td>c</td></tr><tr><td>d</td></tr></table>")
    assert (t.n_rows, t.n_cols) == (2, 3)
    assert t.grid()[1] == [3, -1, -1]


def test_html_picks_first_table_in_document():
    t = parse("<html><body><p>x</p><table><tr><td>only</td></tr></table>"
              "<table><tr><td>second</td></tr></table></body></html>")
    assert [c.text for c in t.cells] == ["only"]


# -- LaTeX ----------------------------------------------------------------------------------

LATEX = r"""
\begin{table}[h]\centering
\begin{tabular}{@{}l|c r@{}}
\toprule
\multicolumn{2}{c}{\textbf{Model}} & Score \\ % comment & not a cell
\midrule
\multirow{2}{*}{Base} & a \& b & $92.1 \pm 0.3$ \\
\cmidrule(lr){2-3}
 & \textit{large} & 10\% \\
\hline
\rowcolor{gray!20} Ours & \makecell{two\\lines} & \cellcolor[HTML]{FF0000}{\bfseries 95.0} \\
\bottomrule
\end{tabular}
\end{table}"""


def test_latex_constructs():
    t = parse(LATEX)
    assert t.fmt == "latex" and (t.n_rows, t.n_cols) == (4, 3)
    g = t.grid()
    model = t.cells[g[0][0]]
    assert model.text == "Model" and model.bold and model.colspan == 2 and model.header
    assert model.align == "center"
    assert t.cells[g[0][2]].header and t.cells[g[0][2]].align == "right"
    base = t.cells[g[1][0]]
    assert base.text == "Base" and base.rowspan == 2 and not base.header
    assert g[2][0] == g[1][0]
    assert t.cells[g[1][1]].text == "a & b"
    assert t.cells[g[1][2]].text == "92.1 ± 0.3"
    assert t.cells[g[2][1]].italic and t.cells[g[2][2]].text == "10%"
    ours = t.cells[g[3][0]]
    assert ours.text == "Ours" and ours.background == "#e6e6e6"  # xcolor gray!20 = 20% of 50% grey
    assert t.cells[g[3][1]].text == "two\nlines"
    last = t.cells[g[3][2]]
    assert last.text == "95.0" and last.bold and last.background == "#FF0000"


def test_latex_short_rows_are_padded():
    t = parse(r"\begin{tabular}{ccc} a & b & c \\ d \\ \end{tabular}")
    assert (t.n_rows, t.n_cols) == (2, 3)
    assert [c.text for c in t.rows()[1]] == ["d", "", ""]


# -- auto-detect ----------------------------------------------------------------------------

@pytest.mark.parametrize("code,fmt", [
    ("| a |\n|---|\n| 1 |", "markdown"),
    ("<TABLE><TR><TD>1</TD></TR></TABLE>", "html"),
    ("<tr><td>x | y</td></tr>", "html"),
    (r"\begin{tabular}{c} a \\ \end{tabular}", "latex"),
    ("```latex\n\\begin{tabular}{c} <b> \\\\ \\end{tabular}\n```", "latex"),
])
def test_detect(code, fmt):
    assert parse(code).fmt == fmt


# -- malformed and hostile input ------------------------------------------------------------

MALFORMED = {
    "empty": ("   \n ", "auto", "empty"),
    "prose": ("just some words, no table", "auto", "unknown_format"),
    "md_no_delimiter": ("| a | b |\n| c | d |", "markdown", "no_table"),
    "md_delimiter_mismatch": ("| a | b |\n|---|\n| c | d |", "markdown", "no_table"),
    "html_no_table": ("<div><p>x</p></div>", "html", "no_table"),
    "html_empty_table": ("<table><tr></tr></table>", "html", "empty"),
    "latex_no_end": (r"\begin{tabular}{cc} a & b \\", "latex", "unbalanced"),
    "latex_open_brace": (r"\begin{tabular}{cc} {a & b \\ \end{tabular}", "latex", "unbalanced"),
    "latex_close_brace": (r"\begin{tabular}{cc} a} & b \\ \end{tabular}", "latex", "unbalanced"),
    "latex_bad_spec": (r"\begin{tabular}{c a & b \end{tabular}", "latex", "unbalanced"),
    "latex_no_env": (r"a & b \\ c & d \\", "latex", "no_table"),
    "latex_bad_multicolumn": (r"\begin{tabular}{cc} \multicolumn{x}{c}{a} \\ \end{tabular}",
                              "latex", "syntax"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_inputs_raise_typed_errors(name):
    code, fmt, reason = MALFORMED[name]
    with pytest.raises(TableParseError) as info:
        parse(code, fmt)
    assert info.value.reason == reason
    assert str(info.value)


def _enormous():
    wide = "|" + "a|" * 1000
    return {
        "md_1e6_cells": (wide + "\n|" + "-|" * 1000 + "\n" + (wide + "\n") * 999, None),
        "md_many_rows": ("|a|\n|-|\n" + "|a|\n" * 200_000, None),
        "md_many_cols": ("|" + "a|" * 2000 + "\n|" + "-|" * 2000 + "\n", "too_large"),
        "html_rowspan_1e9": ("<table><tr><td rowspan=1000000000>x</td></tr></table>",
                             "bad_span"),
        "html_colspan_huge": ("<table><tr><td colspan=99999999999999999999>x</td></tr></table>",
                              "bad_span"),
        "html_1e6_cells": ("<table>" + ("<tr>" + "<td>" * 1000) * 1000 + "</table>", None),
        "html_150k_cells": ("<table><tr>" + "<td>a" * 150_000 + "</table>", "too_large"),
        "latex_multicolumn_1e9": (r"\begin{tabular}{c}\multicolumn{1000000000}{c}{x}"
                                  r"\end{tabular}", "bad_span"),
        "latex_multirow_1e9": (r"\begin{tabular}{c}\multirow{1000000000}{*}{x}\end{tabular}",
                               "bad_span"),
        "latex_spec_repeat_1e9": (r"\begin{tabular}{*{1000000000}{c}} x \end{tabular}",
                                  "too_large"),
        "latex_many_rows": (r"\begin{tabular}{c}" + "a\\\\" * 100_000 + r"\end{tabular}",
                            "too_large"),
        "latex_deep_braces": (r"\begin{tabular}{c}" + "{" * 100_000 + "x" + "}" * 100_000
                              + r"\end{tabular}", "too_large"),
    }


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(_enormous()))
def test_enormous_inputs_fail_fast(name):
    code, reason = _enormous()[name]
    with pytest.raises(TableParseError) as info:
        parse(code)
    assert info.value.reason in ((reason,) if reason else ("too_large", "bad_span"))


def test_limits_are_configurable():
    code = "|a|b|c|\n|-|-|-|\n" + "|1|2|3|\n" * 20
    assert parse(code).n_rows == 21
    with pytest.raises(TableParseError, match="rows"):
        parse(code, limits=TableLimits(max_rows=10))
    with pytest.raises(TableParseError, match="cells"):
        parse(code, limits=TableLimits(max_cells=30))
    with pytest.raises(TableParseError) as info:
        parse("<table><tr><td colspan=20>x</td></tr></table>", limits=TableLimits(max_span=10))
    assert info.value.reason == "bad_span"


def test_bad_arguments():
    with pytest.raises(ValueError):
        parse("| a |\n|---|", "rst")
    with pytest.raises(TypeError):
        parse(123)  # type: ignore[arg-type]
    assert parse(b"| a |\n|---|\n| 1 |").n_rows == 2
