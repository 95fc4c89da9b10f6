"""``verm render IN... -o OUT``: render SVG, table (Markdown/HTML/LaTeX) or chart code to PNG.

The kind comes from each input's extension (``.svg``; ``.md``/``.markdown``/``.html``/``.htm``/
``.tex``; ``.py``) unless ``--kind`` says otherwise. Folders are expanded to the files in them
with a known extension. With one input, ``-o`` may name a ``.png`` file; otherwise it is a
folder that receives ``<stem>.png`` per input. Work goes in chunks and each PNG is written as
soon as its chunk is done, so ``--skip-existing`` resumes an interrupted run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

KIND_BY_EXT = {
    ".svg": "svg",
    ".md": "table", ".markdown": "table", ".html": "table", ".htm": "table", ".tex": "table",
    ".py": "chart",
}
_TABLE_FMT = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
              ".tex": "latex"}
CHUNK = 64


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``verm render``."""
    p.add_argument("inputs", nargs="+", help="input files or folders")
    p.add_argument("-o", "--output", required=True,
                   help="output .png (single input) or folder")
    p.add_argument("--kind", choices=["auto", "svg", "table", "chart"], default="auto",
                   help="override the kind implied by the file extension")
    p.add_argument("--fmt", choices=["auto", "markdown", "html", "latex"], default=None,
                   help="table format (default: from the extension, else auto-detect)")
    p.add_argument("--width", type=int, default=None,
                   help="SVG: output width; tables: maximum table width in px (wrap beyond)")
    p.add_argument("--height", type=int, default=None, help="SVG: output height")
    p.add_argument("--threads", type=int, default=None, help="render threads (default: all)")
    p.add_argument("--no-fallback", action="store_true",
                   help="do not fall back to resvg for what the native renderer cannot draw")
    p.add_argument("--skip-existing", action="store_true",
                   help="keep outputs that already exist (resume a batch)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _expand(inputs: list[str], kind: str) -> list[Path]:
    out: list[Path] = []
    for name in inputs:
        p = Path(name)
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir()
                              if f.is_file() and (kind != "auto" or f.suffix.lower() in KIND_BY_EXT)))
        else:
            out.append(p)
    return out


def _kind(path: Path, forced: str) -> str | None:
    return forced if forced != "auto" else KIND_BY_EXT.get(path.suffix.lower())


def _render_group(kind: str, paths: list[Path], codes: list[str], args) -> list:
    import verm.render as vr

    if kind == "svg":
        return vr.render_svgs(codes, args.width, args.height, fallback=not args.no_fallback,
                              threads=args.threads)
    if kind == "table":
        results: list = [None] * len(codes)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(paths):
            fmt = args.fmt or _TABLE_FMT.get(p.suffix.lower(), "auto")
            groups.setdefault(fmt, []).append(i)
        for fmt, idx in groups.items():
            res = vr.render_tables([codes[i] for i in idx], fmt=fmt, max_width=args.width,
                                   threads=args.threads, fallback=not args.no_fallback)
            for i, r in zip(idx, res):
                results[i] = r
        return results
    fn = getattr(vr, "render_chart_codes", None)
    if fn is None:
        raise SystemExit("verm render: chart rendering is not available in this build")
    if getattr(args, "_chart_pool", None) is None:  # one warm pool for every chunk
        from verm.charts import ChartPool

        args._chart_pool = ChartPool(min(args.threads or len(codes), len(codes)) or 1)
    return fn(codes, pool=args._chart_pool)


def run(args: argparse.Namespace) -> int:
    """Render the inputs; returns 0 when every item produced an image, 1 otherwise."""
    from PIL import Image

    paths = _expand(args.inputs, args.kind)
    if not paths:
        print("verm render: no inputs with a known extension", file=sys.stderr)
        return 2
    out = Path(args.output)
    single = len(paths) == 1 and out.suffix.lower() == ".png"
    if not single:
        out.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in paths]
    dup = {s for s in stems if stems.count(s) > 1}
    # inputs sharing a stem (t.md, t.html) keep their extension in the output name
    targets = [out if single else out / f"{p.name if p.stem in dup else p.stem}.png"
               for p in paths]

    bar = None
    if not args.quiet and len(paths) > 1:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(paths), desc="render", unit="item")
        except ImportError:
            bar = None
    failures = 0
    todo = [(p, t) for p, t in zip(paths, targets)
            if not (args.skip_existing and t.exists())]
    if bar is not None:
        bar.update(len(paths) - len(todo))
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        by_kind: dict[str, list[tuple[Path, Path]]] = {}
        for p, t in chunk:
            k = _kind(p, args.kind)
            if k is None:
                print(f"{p}: unknown extension (use --kind)", file=sys.stderr)
                failures += 1
                continue
            by_kind.setdefault(k, []).append((p, t))
        for k, items in by_kind.items():
            codes, ok_items = [], []
            for p, t in items:
                try:
                    codes.append(p.read_text(encoding="utf-8", errors="replace"))
                    ok_items.append((p, t))
                except OSError as exc:
                    print(f"{p}: {exc}", file=sys.stderr)
                    failures += 1
            results = _render_group(k, [p for p, _ in ok_items], codes, args)
            for (p, t), res in zip(ok_items, results):
                if res is None or res.image is None:
                    msg = res.message if res is not None else "no result"
                    status = res.status if res is not None else "error"
                    print(f"{p}: {status}: {msg}", file=sys.stderr)
                    failures += 1
                    continue
                Image.fromarray(res.image, "RGBA").save(t)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    if single and not failures:
        print(f"wrote {targets[0]}")
    elif not single:
        print(f"wrote {len(todo) - failures} image(s) to {out}"
              + (f", {failures} failed" if failures else ""))
    return 1 if failures else 0
