"""``verm reward``: score one response against a ground-truth image and print the RewardResult."""

from __future__ import annotations

import argparse
import json
import sys

from verm.critic.registry import add_critic_arguments, critic_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``verm reward`` options."""
    parser.add_argument("--gt", required=True, help="ground-truth image (PNG, JPEG, ...)")
    parser.add_argument("--response", required=True, help="file with the policy's response, or - for stdin")
    parser.add_argument("--kind", default="auto", choices=["auto", "chart", "table", "svg"])
    parser.add_argument("--preset", default="visual-erm", help="reward preset: visual-erm | reference-table")
    add_critic_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Score and print the result as JSON; exit 1 if the critic could not be run."""
    from verm.reward import RewardConfig, score

    try:
        config = RewardConfig.preset(args.preset)
        critic = critic_from_args(args)
        text = sys.stdin.read() if args.response == "-" else open(args.response, encoding="utf-8").read()
        from verm.critic.base import load_image

        gt = load_image(args.gt)
    except (OSError, ValueError, RuntimeError, ImportError) as exc:
        print(f"verm reward: {exc}", file=sys.stderr)
        return 2
    res = score(text, gt, args.kind, critic, config)
    print(json.dumps(res.to_dict(), indent=2))
    return 1 if res.status == "critic_failed" else 0
