"""Build a critic from a short spec string (used by the CLI, the server and the adapters).

=========================  ==========================================================
``pixel``                  the embedded weight-free :class:`~verm.critic.pixel.PixelCritic`
``openai:URL[,URL...]``    :class:`~verm.critic.openai_critic.OpenAICritic` (``vllm serve``, ``verm serve``)
``hf:PATH``                :class:`~verm.critic.transformers_critic.TransformersCritic`
``vllm:PATH``              :class:`~verm.critic.vllm_critic.VLLMCritic` (offline ``vllm.LLM``)
``py:MODULE:ATTR``         any importable critic class or factory (plugins, tests)
=========================  ==========================================================
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from verm.critic.base import Critic

__all__ = ["DEFAULT_CRITIC", "add_critic_arguments", "critic_from_args", "make_critic"]

DEFAULT_CRITIC = "pixel"


def _pixel(**kwargs: Any) -> Critic:
    try:
        mod = importlib.import_module("verm.critic.pixel")
    except ModuleNotFoundError as exc:
        if exc.name == "verm.critic.pixel":
            raise RuntimeError(
                "the pixel critic is not available in this build (verm.critic.pixel is missing); "
                "use --critic openai:URL, hf:PATH or vllm:PATH"
            ) from exc
        raise
    return mod.PixelCritic(**kwargs)


def make_critic(spec: str | Critic | None = None, **kwargs: Any) -> Critic:
    """Build a critic from ``spec`` (see the module doc); a critic object is returned unchanged.

    Extra keyword arguments go to the critic's constructor (e.g. ``model=``, ``retries=``,
    ``template=``, ``batch_size=``). Arguments that are ``None`` are dropped.
    """
    if spec is None:
        spec = DEFAULT_CRITIC
    if not isinstance(spec, str):
        if not hasattr(spec, "critique_batch"):
            raise TypeError(f"not a critic: {spec!r}")
        return spec
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    scheme, _, rest = spec.partition(":")
    scheme = scheme.strip().lower()
    if scheme == "pixel" and not rest:
        return _pixel(**kwargs)
    if scheme == "openai":
        from verm.critic.openai_critic import OpenAICritic

        urls = [u.strip() for u in rest.split(",") if u.strip()]
        if not urls:
            raise ValueError("openai critic needs at least one URL: openai:http://host:8000/v1")
        return OpenAICritic(urls, **kwargs)
    if scheme == "hf":
        if not rest:
            raise ValueError("hf critic needs a model path: hf:PATH")
        from verm.critic.transformers_critic import TransformersCritic

        return TransformersCritic(rest, **kwargs)
    if scheme == "vllm":
        if not rest:
            raise ValueError("vllm critic needs a model path: vllm:PATH")
        from verm.critic.vllm_critic import VLLMCritic

        return VLLMCritic(rest, **kwargs)
    if scheme == "py":
        mod_name, _, attr = rest.partition(":")
        if not mod_name or not attr:
            raise ValueError("py critic spec is py:MODULE:ATTR")
        factory = getattr(importlib.import_module(mod_name), attr)
        return make_critic(factory(**kwargs))
    raise ValueError(
        f"unknown critic {spec!r}; use pixel, openai:URL[,URL], hf:PATH, vllm:PATH or py:MODULE:ATTR"
    )


def add_critic_arguments(parser) -> None:
    """The critic options shared by ``verm reward``, ``verm reward-batch`` and ``verm serve``."""
    g = parser.add_argument_group("critic")
    g.add_argument("--critic", default=DEFAULT_CRITIC,
                   help="pixel | openai:URL[,URL...] | hf:PATH | vllm:PATH | py:MODULE:ATTR (default: pixel)")
    g.add_argument("--critic-model", default=None, help="model name for openai: critics (default: ask the server)")
    g.add_argument("--api-key", default=None, help="bearer token for openai: critics (default: $OPENAI_API_KEY)")
    g.add_argument("--prompt-template", default=None, help="a prompt template file for generative critics")
    g.add_argument("--retries", type=int, default=None, help="re-samples of unparseable answers (generative critics)")
    g.add_argument("--max-concurrency", type=int, default=None, help="requests in flight (openai: critics)")
    g.add_argument("--critic-batch-size", type=int, default=None, help="pairs per generate call (hf: critics)")
    g.add_argument("--device", default=None, help="device for hf: critics (auto, cpu, cuda:0, ...)")
    g.add_argument("--critic-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra critic constructor argument (repeatable; VALUE parsed as JSON when it can "
                        "be), e.g. --critic-option temperature=0.2 --critic-option max_attempts=4")


def critic_from_args(args) -> Critic:
    """Build the critic described by :func:`add_critic_arguments` options."""
    import os

    spec = args.critic
    scheme = spec.split(":", 1)[0].lower()
    kwargs: dict[str, Any] = {}
    if scheme in ("openai", "hf", "vllm"):
        kwargs["template"] = args.prompt_template
        kwargs["retries"] = args.retries
    if scheme == "openai":
        kwargs["model"] = args.critic_model
        kwargs["api_key"] = args.api_key or os.environ.get("OPENAI_API_KEY")
        kwargs["max_concurrency"] = args.max_concurrency
    if scheme == "hf":
        kwargs["batch_size"] = args.critic_batch_size
        kwargs["device"] = args.device
    for opt in getattr(args, "critic_option", None) or []:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--critic-option needs KEY=VALUE, got {opt!r}")
        try:
            kwargs[key.strip()] = json.loads(value)
        except ValueError:
            kwargs[key.strip()] = value
    return make_critic(spec, **kwargs)
