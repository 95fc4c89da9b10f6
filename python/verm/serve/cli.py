"""``verm serve``: run the critic / reward server (OpenAI-compatible chat completions + /v1/reward)."""

from __future__ import annotations

import argparse
import sys

from verm.critic.registry import add_critic_arguments, critic_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``verm serve`` options."""
    add_critic_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--preset", default="visual-erm", help="default reward preset for /v1/reward")
    parser.add_argument("--model-name", default=None, help="model id reported by /v1/models")
    parser.add_argument("--max-batch", type=int, default=16, help="pairs per critic call (default 16)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0,
                        help="how long to wait to fill a critic batch (default 5 ms)")
    parser.add_argument("--critic-workers", type=int, default=1,
                        help="critic batches run at once (only for thread-safe critics; default 1)")
    parser.add_argument("--max-image-mb", type=float, default=16.0, help="per-image limit, else 413")
    parser.add_argument("--max-body-mb", type=float, default=64.0, help="request body limit, else 413")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")


def run(args: argparse.Namespace) -> int:
    """Start the server and block until it is stopped."""
    try:
        import uvicorn

        from verm.serve.app import ServerConfig, create_app
    except ImportError as exc:
        print(f"verm serve needs the 'serve' extra (pip install 'verm[serve]'): {exc}", file=sys.stderr)
        return 2
    try:
        critic = critic_from_args(args)
    except (RuntimeError, ValueError, ImportError) as exc:
        print(f"verm serve: {exc}", file=sys.stderr)
        return 2
    cfg = ServerConfig(
        model_name=args.model_name, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
        critic_workers=args.critic_workers, max_image_bytes=int(args.max_image_mb * 1024 * 1024),
        max_body_bytes=int(args.max_body_mb * 1024 * 1024), preset=args.preset,
    )
    app = create_app(critic, cfg)
    print(f"verm serve: critic {getattr(critic, 'name', '?')} on http://{args.host}:{args.port}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, backlog=4096,
                timeout_keep_alive=30)
    return 0
