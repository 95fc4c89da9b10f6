"""Generative critic on a Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoint through transformers.

The model is loaded with transformers' Auto classes (``AutoModelForImageTextToText``, or
``AutoModelForVision2Seq`` on older releases, or the class named in the config). Inputs are built
by the checkpoint's ``AutoProcessor``; when that cannot be built (for example, the Qwen-VL video
processor needs torchvision), verm builds them from the tokenizer and the image processor, which
is all an image-only critic needs.
"""

from __future__ import annotations

from typing import Any

from verm.critic.base import GenerativeCritic, ImageLike, to_pil

__all__ = ["TransformersCritic"]


def _import_transformers():
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ImportError(
            "TransformersCritic needs torch and transformers: pip install 'verm[hf]'"
        ) from exc
    return torch, transformers


def _model_class(transformers, config):
    for name in ("AutoModelForImageTextToText", "AutoModelForVision2Seq"):
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        mapping = getattr(transformers, "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING" if "Text" in name
                          else "MODEL_FOR_VISION_2_SEQ_MAPPING", None)
        try:
            if mapping is None or type(config) in mapping:
                return cls
        except Exception:  # lazy mappings may fail on exotic configs; try the next option
            continue
    for arch in getattr(config, "architectures", None) or []:
        if hasattr(transformers, arch):
            return getattr(transformers, arch)
    raise ValueError(f"no transformers class can load a {type(config).__name__} as a vision-language model")


class TransformersCritic(GenerativeCritic):
    """Critic running a Qwen-VL family checkpoint with ``model.generate``.

    Args:
        model_path: a local checkpoint folder (``from_pretrained`` path).
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:1``...
        dtype: ``auto`` (bfloat16 on GPU, float32 on CPU) or a torch dtype name.
        batch_size: pairs per ``generate`` call.
        max_new_tokens: answer length cap.
        do_sample, temperature, top_p, top_k: sampling settings (defaults as the OpenAI critic).
        image_max_side: images are shrunk to this longest side before processing.
        retries: re-samples of answers that do not parse.
        seed: seeds torch before each ``generate`` call for reproducible sampling.
    """

    name = "hf"

    def __init__(
        self,
        model_path: str,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 4,
        *,
        max_new_tokens: int = 4096,
        do_sample: bool = True,
        temperature: float = 0.7,
        top_p: float = 0.8,
        top_k: int = 20,
        image_max_side: int | None = 1024,
        retries: int = 2,
        seed: int | None = None,
        template=None,
        trust_remote_code: bool = False,
    ) -> None:
        torch, transformers = _import_transformers()
        super().__init__(template=template, retries=retries)
        self.model_path = str(model_path)
        self.batch_size = max(1, int(batch_size))
        self.image_max_side = image_max_side
        self.seed = seed
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        else:
            torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        config = transformers.AutoConfig.from_pretrained(self.model_path, trust_remote_code=trust_remote_code)
        cls = _model_class(transformers, config)
        try:
            model = cls.from_pretrained(self.model_path, dtype=torch_dtype, trust_remote_code=trust_remote_code)
        except TypeError:  # transformers < 4.56 calls it torch_dtype
            model = cls.from_pretrained(self.model_path, torch_dtype=torch_dtype,
                                        trust_remote_code=trust_remote_code)
        self.model = model.to(self.device).eval()
        self.processor = None
        self.load_note = ""
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(
                self.model_path, trust_remote_code=trust_remote_code)
            self.tokenizer = self.processor.tokenizer
            self.image_processor = self.processor.image_processor
        except Exception as exc:  # e.g. the video processor needs torchvision
            self.load_note = f"AutoProcessor unavailable ({type(exc).__name__}); using tokenizer + image processor"
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.model_path, trust_remote_code=trust_remote_code)
            self.image_processor = transformers.AutoImageProcessor.from_pretrained(
                self.model_path, trust_remote_code=trust_remote_code)
        self.fused_preprocess = False
        if str(self.device).startswith("cuda"):
            # The fused Triton preprocessing (verm.kernels) replaces the image processor's
            # resize/normalise/patchify passes; calls it cannot serve go to the original.
            try:
                from verm.kernels import patch_processor

                patch_processor(self.image_processor, device=self.device)
                self.fused_preprocess = True
            except ImportError as exc:
                self.load_note += f" fused preprocessing unavailable ({exc})"
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.image_token = getattr(self.tokenizer, "image_token", None) or "<|image_pad|>"
        self.gen_kwargs: dict[str, Any] = {"max_new_tokens": int(max_new_tokens), "do_sample": do_sample}
        if do_sample:
            self.gen_kwargs.update(temperature=temperature, top_p=top_p, top_k=top_k)
        self.gen_kwargs["pad_token_id"] = self.tokenizer.pad_token_id

    def _cache_ident(self) -> str:
        return repr((self.model_path, sorted(self.gen_kwargs.items()), self.image_max_side))

    def _prepare(self, img: ImageLike):
        return to_pil(img, max_side=self.image_max_side)

    def _chat_text(self, kind: str) -> str:
        from verm.critic.prompts import build_messages

        msgs = build_messages(kind, self.template)
        for m in msgs:
            for part in m["content"]:
                part.pop("image", None)
        owner = self.processor if self.processor is not None else self.tokenizer
        return owner.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    def _inputs(self, requests: list[tuple[Any, Any, str]]) -> dict[str, Any]:
        texts = [self._chat_text(kind) for _, _, kind in requests]
        if self.processor is not None:
            images = [[gt, pred] for gt, pred, _ in requests]
            return dict(self.processor(text=texts, images=images, padding=True, return_tensors="pt"))
        images = [im for gt, pred, _ in requests for im in (gt, pred)]
        img_inputs = dict(self.image_processor(images=images, return_tensors="pt"))
        merge = int(getattr(self.image_processor, "merge_size", 2)) ** 2
        counts = iter((img_inputs["image_grid_thw"].prod(-1) // merge).tolist())
        expanded = []
        for text in texts:
            parts = text.split(self.image_token)
            out = parts[0]
            for rest in parts[1:]:
                out += self.image_token * int(next(counts)) + rest
            expanded.append(out)
        enc = dict(self.tokenizer(expanded, padding=True, return_tensors="pt", add_special_tokens=False))
        return {**enc, **img_inputs}

    def _generate(self, requests: list[tuple[Any, Any, str]], attempt: int) -> list[str]:
        import torch

        out: list[str] = []
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start : start + self.batch_size]
            inputs = {k: (v.to(self.device) if hasattr(v, "to") else v) for k, v in self._inputs(chunk).items()}
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
            if self.seed is not None:
                torch.manual_seed(self.seed + attempt)
            with torch.inference_mode():
                ids = self.model.generate(**inputs, **self.gen_kwargs)
            new = ids[:, inputs["input_ids"].shape[1]:]
            out.extend(self.tokenizer.batch_decode(new, skip_special_tokens=True))
        return out
