"""The ``verm`` command. Each subcommand lives in its own module exposing
``add_arguments(parser)`` and ``run(args) -> int``; this file only dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "render": ("verm.render.cli", "render SVG / table / chart code to PNG"),
    "reward": ("verm.reward_cli", "score one response against a ground-truth image"),
    "reward-batch": ("verm.reward_cli_batch", "score a JSONL of responses (resumable)"),
    "serve": ("verm.serve.cli", "run the reward / critic HTTP server"),
    "synth": ("verm.data.cli", "synthesise labelled critic training data"),
    "bench": ("verm.bench.cli", "evaluate a critic on a reward benchmark"),
    "report": ("verm.report.cli", "write a self-contained HTML report"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verm",
        description="Visual-ERM rewards for image-to-code RL: render code, critique it against "
                    "the ground-truth image, turn the errors into a reward.")
    from verm import __version__

    parser.add_argument("--version", action="version", version=f"verm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not exc.name or not exc.name.startswith(module.rsplit(".", 1)[0]):
                p.set_defaults(_missing=f"{name} needs an optional dependency: {exc.name}")
                continue
            p.set_defaults(_missing=f"{name} is not available in this build")
            continue
        mod.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if getattr(args, "_missing", None):
        print(f"verm: {args._missing}", file=sys.stderr)
        return 2
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
