"""Offline generative critic on ``vllm.LLM`` (install the ``vllm`` extra)."""

from __future__ import annotations

from typing import Any

from verm.critic.base import GenerativeCritic, ImageLike

__all__ = ["VLLMCritic"]


def _import_vllm():
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(
            "VLLMCritic needs vLLM, which is not installed: pip install 'verm[vllm]' "
            "(or use --critic openai:URL against a running `vllm serve`)"
        ) from exc
    return vllm


class VLLMCritic(GenerativeCritic):
    """Qwen-VL style critic run in-process by vLLM.

    Args:
        model_path: a local checkpoint folder (or anything ``vllm.LLM(model=...)`` accepts).
        temperature, top_p, top_k, presence_penalty, max_tokens: sampling settings.
        image_max_side: images are shrunk to this longest side before they are sent.
        retries: re-samples of answers that do not parse.
        llm_kwargs: passed to ``vllm.LLM`` (e.g. ``tensor_parallel_size``, ``max_model_len``).
    """

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        *,
        temperature: float = 0.7,
        top_p: float = 0.8,
        top_k: int = 20,
        presence_penalty: float = 1.5,
        max_tokens: int = 4096,
        image_max_side: int | None = 1024,
        retries: int = 2,
        seed: int | None = None,
        template=None,
        **llm_kwargs: Any,
    ) -> None:
        vllm = _import_vllm()
        super().__init__(template=template, retries=retries)
        self.model_path = model_path
        self.image_max_side = image_max_side
        llm_kwargs.setdefault("limit_mm_per_prompt", {"image": 2})
        self.llm = vllm.LLM(model=model_path, **llm_kwargs)
        self.sampling = vllm.SamplingParams(
            temperature=temperature, top_p=top_p, top_k=top_k, presence_penalty=presence_penalty,
            max_tokens=max_tokens, seed=seed,
        )

    def _cache_ident(self) -> str:
        return repr((self.model_path, str(self.sampling), self.image_max_side))

    def _prepare(self, img: ImageLike) -> str:
        from verm.critic.openai_critic import image_data_url

        return image_data_url(img, self.image_max_side)

    def _generate(self, requests: list[tuple[Any, Any, str]], attempt: int) -> list[str]:
        from verm.critic.openai_critic import to_openai_messages
        from verm.critic.prompts import build_messages

        conversations = [
            to_openai_messages(build_messages(kind, self.template, gt, pred))
            for gt, pred, kind in requests
        ]
        outputs = self.llm.chat(conversations, self.sampling, use_tqdm=False)
        return [o.outputs[0].text if o.outputs else "" for o in outputs]
