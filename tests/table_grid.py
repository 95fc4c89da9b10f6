"""Recover a table's cell structure from a rendered image's border lines (test helper).

Independent of the renderer's own layout data: it looks only at pixels. Rules are runs of dark
pixels much longer than any glyph stroke; the grid's row/column lines are the distinct
positions of those runs, and two neighbouring grid slots belong to one cell when no rule
separates them.
"""

from __future__ import annotations

import numpy as np


def _runs(mask_1d: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of runs of True (end exclusive)."""
    m = np.concatenate([[False], mask_1d, [False]]).astype(np.int8)
    d = np.diff(m)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist()))


def _line_positions(mask: np.ndarray, min_len: int) -> list[int]:
    """Rows of ``mask`` holding a run of at least ``min_len`` dark pixels (merged when adjacent)."""
    rows = []
    for y in range(mask.shape[0]):
        if any(e - s >= min_len for s, e in _runs(mask[y])):
            rows.append(y)
    merged: list[int] = []
    for y in rows:
        if merged and y - merged[-1] <= 1:
            continue  # a thick rule: keep its first row
        merged.append(y)
    return merged


def detect_grid(image: np.ndarray, *, dark: int = 100, min_h: int = 14,
                min_v: int = 20) -> tuple[int, int, set[tuple[int, int, int, int]]]:
    """(n_rows, n_cols, {(row, col, rowspan, colspan)}) read from the drawn borders."""
    rgb = image[..., :3].astype(np.int32)
    alpha = image[..., 3] if image.shape[-1] == 4 else np.full(image.shape[:2], 255)
    mask = (rgb.max(axis=-1) < dark) & (alpha > 128)
    ys = _line_positions(mask, min_h)
    xs = _line_positions(mask.T, min_v)
    n_r, n_c = len(ys) - 1, len(xs) - 1
    if n_r < 1 or n_c < 1:
        return 0, 0, set()

    def vrule(r: int, k: int) -> bool:  # rule between slot (r, k-1) and (r, k)?
        y0, y1 = ys[r] + 2, ys[r + 1] - 1
        col = mask[y0:y1, xs[k]]
        return col.size > 0 and col.mean() > 0.9

    def hrule(r: int, k: int) -> bool:  # rule between slot (r-1, k) and (r, k)?
        x0, x1 = xs[k] + 2, xs[k + 1] - 1
        row = mask[ys[r], x0:x1]
        return row.size > 0 and row.mean() > 0.9

    parent = list(range(n_r * n_c))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r in range(n_r):
        for k in range(n_c):
            if k + 1 < n_c and not vrule(r, k + 1):
                parent[find(r * n_c + k)] = find(r * n_c + k + 1)
            if r + 1 < n_r and not hrule(r + 1, k):
                parent[find(r * n_c + k)] = find((r + 1) * n_c + k)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_r):
        for k in range(n_c):
            groups.setdefault(find(r * n_c + k), []).append((r, k))
    cells = set()
    for slots in groups.values():
        rs = [s[0] for s in slots]
        ks = [s[1] for s in slots]
        cells.add((min(rs), min(ks), max(rs) - min(rs) + 1, max(ks) - min(ks) + 1))
    return n_r, n_c, cells
