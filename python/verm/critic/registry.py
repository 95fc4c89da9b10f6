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
from typing import Any

from verm.critic.base import Critic

__all__ = ["DEFAULT_CRITIC", "make_critic"]

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
