"""LaTeX ``tabular`` -> :class:`Table`.

Understood: ``tabular``/``tabular*``/``tabularx``/``longtable``/``array`` with column specs
(``l c r p{} m{} b{} X``, ``|``, ``@{}``, ``*{n}{...}``), ``&``, ``\\\\``/``\\tabularnewline``,
``\\hline``/``\\cline`` and booktabs rules (rows above the first ``\\midrule`` are the header),
``\\multicolumn``, ``\\multirow``, ``\\textbf``/``\\textit``/``\\emph`` (and ``\\bfseries``...),
``\\cellcolor``/``\\rowcolor``, ``\\makecell``, escapes and a few common math symbols.
Unknown commands keep their argument text. Unbalanced braces or a missing ``\\end`` are errors.
"""

from __future__ import annotations

import re

from verm.tables.model import Cell, Table, TableLimits, TableParseError

_ENVS = ("tabular*", "tabularx", "tabulary", "longtable", "tabular", "array")
_RULES = {"hline", "toprule", "midrule", "bottomrule", "cline", "cmidrule", "specialrule",
          "addlinespace", "morecmidrules", "hhline", "noalign", "arrayrulecolor", "Xhline",
          "centering", "raggedright", "raggedleft", "small", "footnotesize", "scriptsize",
          "tiny", "large", "Large", "normalsize", "rule", "vspace", "hspace", "label",
          "caption", "resizebox", "arraystretch", "strut", "relax", "endhead", "endfirsthead",
          "endfoot", "endlastfoot", "pagebreak", "nopagebreak", "newpage"}
# number of mandatory {} arguments that a skipped command consumes
_SKIP_ARGS = {"cline": 1, "cmidrule": 1, "specialrule": 3, "addlinespace": 0, "noalign": 1,
              "arrayrulecolor": 1, "hhline": 1, "Xhline": 1, "rule": 2, "vspace": 1,
              "hspace": 1, "label": 1, "caption": 1}
_SYMBOLS = {
    "pm": "±", "mp": "∓", "times": "×", "div": "÷", "cdot": "·", "leq": "≤", "le": "≤",
    "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼", "infty": "∞",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ",
    "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω",
    "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω", "rightarrow": "→", "leftarrow": "←",
    "uparrow": "↑", "downarrow": "↓", "to": "→", "checkmark": "✓", "dag": "†", "ddag": "‡",
    "S": "§", "P": "¶", "ldots": "…", "dots": "…", "cdots": "⋯", "textbackslash": "\\",
    "textasciitilde": "~", "textasciicircum": "^", "textbar": "|", "textless": "<",
    "textgreater": ">", "textendash": "–", "textemdash": "—", "textdegree": "°",
    "degree": "°", "circ": "°", "percent": "%", "euro": "€", "pounds": "£", "copyright": "©",
    "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ", "newline": "\n",
    "linebreak": "\n", "par": "\n", "%": "%", "&": "&", "$": "$", "#": "#", "_": "_",
    "{": "{", "}": "}", " ": " ", ",": " ", ";": " ", ":": " ", "!": "", "/": "",
    "-": "", "textbullet": "•", "bullet": "•", "star": "⋆", "ast": "∗", "prime": "′",
}
_BOLD_CMDS = {"textbf", "mathbf", "bm", "boldsymbol"}
_ITALIC_CMDS = {"textit", "emph", "mathit", "textsl"}
_BOLD_DECL = {"bf", "bfseries"}
_ITALIC_DECL = {"it", "itshape", "em", "sl", "slshape"}
_ALIGN = {"l": "left", "c": "center", "r": "right", "p": "left", "m": "left", "b": "left",
          "X": "left", "L": "left", "C": "center", "R": "right", "J": "left", "S": "center",
          "s": "center"}
_XCOLORS = {
    "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255),
    "magenta": (255, 0, 255), "yellow": (255, 255, 0), "black": (0, 0, 0),
    "white": (255, 255, 255), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "lightgray": (191, 191, 191), "darkgray": (64, 64, 64), "orange": (255, 128, 0),
    "purple": (191, 0, 64), "brown": (191, 128, 64), "pink": (255, 191, 191),
    "olive": (128, 128, 0), "teal": (0, 128, 128), "violet": (128, 0, 128),
    "lime": (191, 255, 0),
}


def _err(msg: str, reason: str = "syntax") -> TableParseError:
    return TableParseError(msg, reason, "latex")


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in " \t\r\n":
        i += 1
    return i


def _read_group(s: str, i: int, opener: str = "{", closer: str = "}") -> tuple[str, int]:
    """Content of the balanced group starting at ``s[i]`` (after whitespace) and the index after."""
    i = _skip_ws(s, i)
    if i >= len(s) or s[i] != opener:
        if opener == "{" and i < len(s):  # a single-token argument, e.g. \multirow2*x
            if s[i] == "\\":
                m = re.match(r"\\([A-Za-z]+|.)", s[i:])
                return (m.group(0), i + m.end()) if m else (s[i], i + 1)
            return s[i], i + 1
        raise _err(f"expected '{opener}' at offset {i}", "unbalanced")
    depth = 0
    j = i
    n = len(s)
    while j < n:
        ch = s[j]
        if ch == "\\":
            j += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
        j += 1
    raise _err(f"unbalanced '{opener}' starting at offset {i}", "unbalanced")


def _read_optional(s: str, i: int) -> tuple[str | None, int]:
    j = _skip_ws(s, i)
    if j < len(s) and s[j] == "[":
        return _read_group(s, j, "[", "]")
    return None, i


def _strip_comments(s: str) -> str:
    return re.sub(r"(?<!\\)%[^\n]*", "", s)


def _parse_spec(spec: str, limits: TableLimits) -> list[str | None]:
    aligns: list[str | None] = []
    i = 0
    n = len(spec)
    while i < n:
        ch = spec[i]
        if len(aligns) > limits.max_cols:
            raise _err(f"column spec has more than {limits.max_cols} columns", "too_large")
        if ch == "*":
            count, i = _read_group(spec, i + 1)
            body, i = _read_group(spec, i)
            try:
                times = int(count.strip())
            except ValueError as exc:
                raise _err(f"bad repeat count in column spec: {count!r}") from exc
            if times < 0 or times * max(1, len(body)) > limits.max_cols * 8:
                raise _err(f"column spec repeats {times} times", "too_large")
            aligns.extend(_parse_spec(body * times, limits))
            continue
        if ch in "@!>< ":
            if ch in "@!><":
                _, i = _read_group(spec, i + 1)
            else:
                i += 1
            continue
        if ch in "pmbw":
            _, i = _read_group(spec, i + 1)
            if ch == "w":
                _, i = _read_group(spec, i)
            aligns.append("left")
            continue
        if ch in _ALIGN:
            aligns.append(_ALIGN[ch])
            i += 1
            if ch == "S" and i < n and spec[i] == "[":
                _, i = _read_group(spec, i, "[", "]")
            continue
        if ch == "{":
            _, i = _read_group(spec, i)
            continue
        i += 1
    return aligns


def _color(model: str | None, value: str) -> str | None:
    value = value.strip()
    try:
        if model:
            m = model.strip().lower()
            if m == "html":
                return "#" + value.lstrip("#")[:6]
            nums = [float(x) for x in value.split(",")]
            if m == "rgb" and len(nums) == 3:
                return "#" + "".join(f"{round(min(max(v, 0), 1) * 255):02x}" for v in nums)
            if m == "rgb" and len(nums) == 3 or m == "rgb255":
                return "#" + "".join(f"{int(min(max(v, 0), 255)):02x}" for v in nums)
            if m == "gray" and len(nums) == 1:
                g = round(min(max(nums[0], 0), 1) * 255)
                return f"#{g:02x}{g:02x}{g:02x}"
            return None
    except ValueError:
        return None
    parts = value.split("!")
    base = _XCOLORS.get(parts[0].strip().lower())
    if base is None:
        return None
    rgb = base
    if len(parts) >= 2:
        try:
            pct = min(max(float(parts[1]), 0.0), 100.0) / 100.0
        except ValueError:
            pct = 1.0
        other = _XCOLORS.get(parts[2].strip().lower(), (255, 255, 255)) if len(parts) > 2 \
            else (255, 255, 255)
        rgb = tuple(round(a * pct + b * (1 - pct)) for a, b in zip(base, other))
    return "#" + "".join(f"{v:02x}" for v in rgb)


class _Content:
    """LaTeX cell source -> plain text, tracking bold/italic coverage and cell colour."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, bool, bool]] = []
        self.background: str | None = None
        self.multicolumn: tuple[int, str | None] | None = None
        self.multirow: int | None = None

    def run(self, s: str, bold: bool = False, italic: bool = False, depth: int = 0) -> None:
        if depth > 50:
            raise _err("cell nests too deeply", "too_large")
        i = 0
        n = len(s)
        while i < n:
            ch = s[i]
            if ch == "\\":
                if i + 1 < n and s[i + 1] == "\\":
                    self.chunks.append(("\n", bold, italic))
                    _, i = _read_optional(s, i + 2)
                    continue
                m = re.match(r"\\([A-Za-z]+\*?|.)", s[i:])
                if not m:
                    i += 1
                    continue
                name = m.group(1)
                i += m.end()
                i = self._command(name.rstrip("*"), s, i, bold, italic, depth)
                if name.rstrip("*") in _BOLD_DECL:
                    bold = True
                elif name.rstrip("*") in _ITALIC_DECL:
                    italic = True
                elif name in ("mdseries", "normalfont", "upshape", "rmfamily"):
                    bold = italic = False if name == "normalfont" else bold
                continue
            if ch == "{":
                inner, i = _read_group(s, i)
                self.run(inner, bold, italic, depth + 1)
                continue
            if ch == "}":
                raise _err("unbalanced '}' in a cell", "unbalanced")
            if ch == "$":
                i += 1
                continue
            if ch == "~":
                self.chunks.append((" ", bold, italic))
                i += 1
                continue
            if ch in "^_":
                i += 1
                continue
            if s.startswith("---", i):
                self.chunks.append(("—", bold, italic))
                i += 3
                continue
            if s.startswith("--", i):
                self.chunks.append(("–", bold, italic))
                i += 2
                continue
            if s.startswith("``", i) or s.startswith("''", i):
                self.chunks.append(("\"", bold, italic))
                i += 2
                continue
            j = i
            while j < n and s[j] not in "\\{}$~^_-`'":
                j += 1
            if j == i:
                j = i + 1
            self.chunks.append((s[i:j], bold, italic))
            i = j

    def _command(self, name: str, s: str, i: int, bold: bool, italic: bool, depth: int) -> int:
        if name in _SYMBOLS:
            self.chunks.append((_SYMBOLS[name], bold, italic))
            return i
        if name in _BOLD_CMDS or name in _ITALIC_CMDS or name in ("text", "textrm", "mathrm",
                                                                   "textsf", "texttt",
                                                                   "mbox", "hbox", "textnormal",
                                                                   "underline", "textup",
                                                                   "mathsf", "mathtt",
                                                                   "operatorname", "num",
                                                                   "textsc", "uline", "si"):
            arg, i = _read_group(s, i)
            self.run(arg, bold or name in _BOLD_CMDS, italic or name in _ITALIC_CMDS, depth + 1)
            return i
        if name == "multicolumn":
            n_s, i = _read_group(s, i)
            spec, i = _read_group(s, i)
            body, i = _read_group(s, i)
            try:
                n = int(n_s.strip())
            except ValueError as exc:
                raise _err(f"\\multicolumn needs a number, got {n_s!r}") from exc
            aligns = _parse_spec(spec, TableLimits())
            self.multicolumn = (n, aligns[0] if aligns else None)
            self.run(body, bold, italic, depth + 1)
            return i
        if name == "multirow":
            _, i = _read_optional(s, i)
            n_s, i = _read_group(s, i)
            _, i = _read_optional(s, i)
            _, i = _read_group(s, i)  # width
            _, i = _read_optional(s, i)  # fixup
            body, i = _read_group(s, i)
            try:
                n = int(n_s.strip())
            except ValueError as exc:
                raise _err(f"\\multirow needs a number, got {n_s!r}") from exc
            self.multirow = abs(n) if n else 1
            self.run(body, bold, italic, depth + 1)
            return i
        if name in ("cellcolor", "rowcolor", "columncolor"):
            model, i = _read_optional(s, i)
            val, i = _read_group(s, i)
            _, i = _read_optional(s, i)
            _, i = _read_optional(s, i)
            if name == "cellcolor":
                self.background = _color(model, val)
            return i
        if name in ("textcolor", "color", "colorbox"):
            _, i = _read_optional(s, i)
            _, i = _read_group(s, i)
            if name in ("textcolor", "colorbox"):
                arg, i = _read_group(s, i)
                self.run(arg, bold, italic, depth + 1)
            return i
        if name in ("makecell", "shortstack", "thead", "makebox", "parbox", "raisebox"):
            while True:
                opt, j = _read_optional(s, i)
                if opt is None:
                    break
                i = j
            if name in ("parbox", "raisebox"):
                _, i = _read_group(s, i)
                while True:
                    opt, j = _read_optional(s, i)
                    if opt is None:
                        break
                    i = j
            arg, i = _read_group(s, i)
            self.run(arg, bold, italic, depth + 1)
            return i
        if name == "begin":
            env, i = _read_group(s, i)
            if env.strip() in ("tabular", "array"):
                _, i = _read_optional(s, i)
                _, i = _read_group(s, i)
            return i
        if name == "end":
            _, i = _read_group(s, i)
            return i
        if name in _RULES:
            for _ in range(2):
                opt, j = _read_optional(s, i)
                if opt is None:
                    break
                i = j
            j = _skip_ws(s, i)
            if name == "cmidrule" and j < len(s) and s[j] == "(":
                k = s.find(")", j)
                i = k + 1 if k > 0 else i
            for _ in range(_SKIP_ARGS.get(name, 0)):
                _, i = _read_group(s, i)
            return i
        if name in _BOLD_DECL or name in _ITALIC_DECL or name in ("mdseries", "normalfont",
                                                                 "upshape", "rmfamily"):
            return i
        # unknown command: keep the text of a following group, if any (\foo{x} -> x)
        j = _skip_ws(s, i)
        if j < len(s) and s[j] == "{":
            arg, i = _read_group(s, j)
            self.run(arg, bold, italic, depth + 1)
        return i

    def result(self) -> tuple[str, bool, bool]:
        text = "".join(t for t, _, _ in self.chunks)
        lines = [re.sub(r"[ \t\r\n]+", " ", ln).strip() for ln in text.split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        visible = [(b, it) for t, b, it in self.chunks if t.strip()]
        bold = bool(visible) and all(b for b, _ in visible)
        italic = bool(visible) and all(it for _, it in visible)
        return "\n".join(lines), bold, italic


def _find_env(code: str) -> tuple[str, str]:
    """(environment name, body text after the begin's arguments) of the first tabular."""
    m = re.search(r"\\begin\s*\{(" + "|".join(re.escape(e) for e in _ENVS) + r")\}", code)
    if not m:
        raise _err("no \\begin{tabular} found", "no_table")
    env = m.group(1)
    i = m.end()
    if env in ("tabular*", "tabularx", "tabulary"):
        _, i = _read_group(code, i)  # width
    opt, i = _read_optional(code, i)
    spec, i = _read_group(code, i)
    # find the matching \end{env}, counting nested begins of the same environment
    depth = 1
    pat = re.compile(r"\\(begin|end)\s*\{" + re.escape(env) + r"\}")
    for mm in pat.finditer(code, i):
        depth += 1 if mm.group(1) == "begin" else -1
        if depth == 0:
            return env, spec + "\x00" + code[i:mm.start()]
    raise _err(f"\\begin{{{env}}} has no matching \\end{{{env}}}", "unbalanced")


def _split_rows(body: str, limits: TableLimits) -> list[tuple[str, list[str]]]:
    """Split a tabular body into rows; each row is (rules seen before it, cell sources)."""
    rows: list[tuple[str, list[str]]] = []
    cells: list[str] = []
    buf: list[str] = []
    depth = 0
    env_depth = 0
    n_cells = 0
    i = 0
    n = len(body)
    seg_start = 0

    def flush_cell() -> None:
        nonlocal n_cells
        cells.append("".join(buf))
        buf.clear()
        n_cells += 1
        if n_cells > limits.max_cells:
            raise _err(f"table has more than {limits.max_cells} cells", "too_large")

    while i < n:
        ch = body[i]
        if ch == "\\":
            if depth == 0 and env_depth == 0 and body.startswith("\\\\", i):
                flush_cell()
                rows.append(("", cells.copy()))
                cells.clear()
                if len(rows) > limits.max_rows:
                    raise _err(f"table has more than {limits.max_rows} rows", "too_large")
                _, j = _read_optional(body, i + 2)
                i = j if j > i + 2 else i + 2
                seg_start = i
                continue
            m = re.match(r"\\([A-Za-z]+|.)", body[i:])
            word = m.group(1) if m else ""
            if word == "tabularnewline" and depth == 0 and env_depth == 0:
                flush_cell()
                rows.append(("", cells.copy()))
                cells.clear()
                i += m.end()
                continue
            if word == "begin":
                env_depth += 1
            elif word == "end":
                env_depth -= 1
            step = m.end() if m else 1
            buf.append(body[i:i + step])
            i += step
            continue
        if ch == "{":
            depth += 1
            if depth > 64:
                raise _err("braces nest more than 64 deep", "too_large")
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise _err("unbalanced '}' in the table body", "unbalanced")
        elif ch == "&" and depth == 0 and env_depth == 0:
            flush_cell()
            i += 1
            continue
        buf.append(ch)
        i += 1
    del seg_start
    if depth != 0:
        raise _err("unbalanced '{' in the table body", "unbalanced")
    tail = "".join(buf)
    if cells or tail.strip():
        flush_cell()
        rows.append(("", cells.copy()))
    return rows


_RULE_ONLY = re.compile(
    r"^(\s|\\(hline|toprule|midrule|bottomrule|endhead|endfirsthead|endfoot|endlastfoot|"
    r"hdashline|addlinespace(\[[^\]]*\])?|cline\{[^}]*\}|cmidrule(\([^)]*\))?(\[[^\]]*\])?"
    r"\{[^}]*\}|specialrule\{[^}]*\}\{[^}]*\}\{[^}]*\}|Xhline\{[^}]*\}|hhline\{[^}]*\}|"
    r"noalign\{[^}]*\}|rowcolor(\[[^\]]*\])?\{[^}]*\}(\[[^\]]*\]){0,2}|"
    r"arrayrulecolor(\[[^\]]*\])?\{[^}]*\}))*$")


def _leading_rules(src: str) -> tuple[str, str, str | None]:
    """Split leading rule commands off a row's first cell: (rules, rest, row colour)."""
    m = re.match(r"^((\s|\\(hline|toprule|midrule|bottomrule|hdashline|endhead|endfirsthead|"
                 r"endfoot|endlastfoot|addlinespace(\[[^\]]*\])?|cline\{[^}]*\}|cmidrule(\([^)]*\))?"
                 r"(\[[^\]]*\])?\{[^}]*\}|specialrule\{[^}]*\}\{[^}]*\}\{[^}]*\}|Xhline\{[^}]*\}|"
                 r"hhline\{[^}]*\}|noalign\{[^}]*\}|rowcolor(\[[^\]]*\])?\{[^}]*\}(\[[^\]]*\]){0,2}"
                 r"|arrayrulecolor(\[[^\]]*\])?\{[^}]*\}))*)", src)
    rules = m.group(1) if m else ""
    color = None
    rc = re.search(r"\\rowcolor(?:\[([^\]]*)\])?\{([^}]*)\}", rules)
    if rc:
        color = _color(rc.group(1), rc.group(2))
    return rules, src[len(rules):], color


def parse_latex(code: str, limits: TableLimits) -> Table:
    """Parse the first tabular-like environment in ``code``."""
    code = _strip_comments(code)
    _, packed = _find_env(code)
    spec, body = packed.split("\x00", 1)
    col_aligns = _parse_spec(spec, limits)
    raw_rows = _split_rows(body, limits)
    # attach leading rules to their row, drop rule-only rows
    rows_src: list[tuple[str, list[str], str | None]] = []
    pending_rules = ""
    for _, cells in raw_rows:
        rules, first, color = _leading_rules(cells[0]) if cells else ("", "", None)
        cells = [first] + cells[1:]
        if len(cells) == 1 and not cells[0].strip():
            pending_rules += rules
            continue
        rows_src.append((pending_rules + rules, cells, color))
        pending_rules = ""
    if not rows_src:
        raise _err("tabular has no rows", "empty")
    header_rows = 0
    for idx, (rules, _, _) in enumerate(rows_src):
        if idx > 0 and "\\midrule" in rules:
            header_rows = idx
            break
    n_cols = len(col_aligns)
    covered: dict[tuple[int, int], int] = {}  # (row, col) covered by a multirow from above
    out: list[Cell] = []
    max_k = 0
    for r, (_, cells, row_color) in enumerate(rows_src):
        k = 0
        for src in cells:
            content = _Content()
            content.run(src)
            text, bold, italic = content.result()
            colspan, align = 1, None
            if content.multicolumn:
                colspan, align = content.multicolumn
                if colspan < 1:
                    colspan = 1
                if colspan > limits.max_span:
                    raise _err(f"\\multicolumn{{{colspan}}} exceeds the limit of "
                               f"{limits.max_span}", "bad_span")
            if (r, k) in covered:
                k += max(colspan, covered[(r, k)])
                continue
            rowspan = content.multirow or 1
            if rowspan > limits.max_span:
                raise _err(f"\\multirow{{{rowspan}}} exceeds the limit of {limits.max_span}",
                           "bad_span")
            rowspan = min(rowspan, len(rows_src) - r)
            if align is None:
                align = col_aligns[k] if k < len(col_aligns) else None
            if k + colspan > limits.max_cols:
                raise _err(f"table has more than {limits.max_cols} columns", "too_large")
            for rr in range(r + 1, r + rowspan):
                covered[(rr, k)] = colspan
            out.append(Cell(text=text, row=r, col=k, rowspan=rowspan, colspan=colspan,
                            header=r < header_rows, align=align, bold=bold, italic=italic,
                            background=content.background or row_color))
            k += colspan
        max_k = max(max_k, k)
    n_cols = max(n_cols, max_k)
    if n_cols == 0:
        raise _err("tabular has no columns", "empty")
    n_rows = len(rows_src)
    if n_rows * n_cols > limits.max_cells * 4:
        raise _err(f"grid of {n_rows}x{n_cols} slots is too large", "too_large")
    # short rows are padded with empty cells, as LaTeX leaves those columns blank
    used = [[False] * n_cols for _ in range(n_rows)]
    for c in out:
        for rr in range(c.row, c.row + c.rowspan):
            for kk in range(c.col, min(c.col + c.colspan, n_cols)):
                used[rr][kk] = True
    for r in range(n_rows):
        for k in range(n_cols):
            if not used[r][k]:
                out.append(Cell(text="", row=r, col=k, header=r < header_rows,
                                align=col_aligns[k] if k < len(col_aligns) else None))
    for c in out:  # emphasis of an empty cell is invisible: canonical False
        if not c.text.strip():
            c.bold = c.italic = False
    out.sort(key=lambda c: (c.row, c.col))
    return Table(cells=out, n_rows=n_rows, n_cols=n_cols, fmt="latex")
