"""`verm report RESULTS/ -o report.html`."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", help="a `verm bench run` results folder")
    p.add_argument("-o", "--out", default="report.html")
    p.add_argument("--max-items", type=int, default=200, help="items shown with images")
    p.add_argument("--title", default=None)


def run(args: argparse.Namespace) -> int:
    from verm.report import write_report

    path = write_report(args.results, args.out, max_items=args.max_items, title=args.title)
    print(f"wrote {path}")
    return 0
