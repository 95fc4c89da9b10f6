"""Print verm's per-folder conformance on the resvg suite beside resvg-py's, plus the top
reasons native rendering fell back.  Usage: python bench/conformance.py [--resvg] [--failures]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import resvg_suite as S  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--resvg", action="store_true", help="also score resvg-py on the same files")
    ap.add_argument("--failures", type=str, default="", help="list native failures of this folder")
    ap.add_argument("--folders", nargs="*", default=list(S.FOLDERS))
    args = ap.parse_args()
    cs = S.cases(args.folders)
    native = S.score(cs, S.render_cases(cs, fallback=False))
    with_fb = S.score(cs, S.render_cases(cs, fallback=True))
    resvg = S.score(cs, S.resvg_only(cs)) if args.resvg else None
    print(f"{'folder':<15}{'native':>9}{'fallback':>10}{'resvg-py':>10}   (n)")
    for f in args.folders:
        rv = resvg["rates"].get(f, 0) if resvg else S.RESVG_PY_RATES.get(f, float("nan"))
        print(f"{f:<15}{native['rates'].get(f, 0):>8.1f}%{with_fb['rates'].get(f, 0):>9.1f}%"
              f"{rv:>9.1f}%   ({native['counts'].get(f, [0, 0])[1]})")
    print(f"{'overall':<15}{native['overall']:>8.1f}%{with_fb['overall']:>9.1f}%"
          f"{(resvg['overall'] if resvg else 92.3):>9.1f}%")
    print("\ntop unsupported reasons (native):")
    for reason, n in native["reasons"].most_common(25):
        print(f"  {n:5d}  {reason}")
    if args.failures:
        print(f"\nnative failures in {args.failures}:")
        for name, status, msg in native["failures"]:
            if name.startswith(args.failures):
                print(f"  {status:<12} {name}  {msg[:80]}")


if __name__ == "__main__":
    main()
