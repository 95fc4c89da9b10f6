"""GRPO: sample a group of responses per task, reward them in visual space, normalise rewards
within each group, and update the policy with the clipped policy loss (verl semantics) computed
by :func:`verm.kernels.fused_linear_grpo_loss` (Triton on CUDA, the torch reference elsewhere).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Task:
    """One prompt: the text (or chat messages) shown to the policy, the ground-truth image and the
    task kind. ``images`` are passed to a multimodal processor when the trainer has one."""

    prompt: str | list[dict[str, Any]]
    gt_image: Any
    kind: str = "auto"
    images: list[Any] = field(default_factory=list)


@dataclass
class GRPOConfig:
    """Hyper-parameters; names follow verl's where they exist."""

    group_size: int = 8
    learning_rate: float = 1e-6
    weight_decay: float = 0.0
    max_new_tokens: int = 1024
    temperature: float = 1.0
    top_p: float = 1.0
    advantage_mode: str = "grpo"  # grpo | dr_grpo | rloo
    clip_low: float = 0.2
    clip_high: float = 0.28
    dual_clip: float | None = None
    kl: str | None = "low_var_kl"
    kl_coef: float = 0.0
    loss_agg: str = "token-mean"
    critic: str = "pixel"
    reward_preset: str = "visual-erm"
    max_grad_norm: float = 1.0
    log_path: str | None = None  # JSONL of StepMetrics, appended each step


@dataclass
class StepMetrics:
    """What one optimisation step did."""

    step: int
    reward_mean: float
    reward_std: float
    loss: float
    pg_clipfrac: float
    ppo_kl: float
    response_length: float
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RewardFn = Callable[[list[str], list[Task]], list[float]]


def visual_reward_fn(critic: str, preset: str) -> RewardFn:
    """Rewards from :func:`verm.reward.score_batch` (render -> critic -> severity mapping)."""
    from verm.integrations.common import cached_critic
    from verm.reward import score_batch

    def fn(responses: list[str], tasks: list[Task]) -> list[float]:
        res = score_batch(responses, [t.gt_image for t in tasks], [t.kind for t in tasks],
                          cached_critic(critic), preset)
        return [r.reward for r in res]

    return fn


class GRPOTrainer:
    """On-policy GRPO for a transformers causal LM / VLM.

    ``policy`` is a ``PreTrainedModel`` with an lm head (``get_output_embeddings()``),
    ``tokenizer`` its tokenizer; pass ``processor`` for multimodal prompts (``Task.images``).
    ``reward_fn(responses, tasks) -> rewards`` defaults to verm's visual reward.
    ``ref_policy`` (frozen) is needed only when ``config.kl_coef > 0``.
    """

    def __init__(self, policy, tokenizer, config: GRPOConfig | None = None, *,
                 reward_fn: RewardFn | None = None, processor=None, ref_policy=None):
        import torch

        self.policy = policy
        self.tokenizer = tokenizer
        self.processor = processor
        self.config = config or GRPOConfig()
        self.ref_policy = ref_policy
        if self.config.kl_coef > 0 and ref_policy is None:
            raise ValueError("kl_coef > 0 needs a ref_policy")
        self.reward_fn = reward_fn or visual_reward_fn(self.config.critic, self.config.reward_preset)
        self.optimizer = torch.optim.AdamW(
            [p for p in policy.parameters() if p.requires_grad], lr=self.config.learning_rate,
            weight_decay=self.config.weight_decay)
        self.step_count = 0
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # generation appends on the right

    # -- rollout --------------------------------------------------------------------------------
    def _encode(self, tasks: Sequence[Task]):
        texts = []
        for t in tasks:
            if isinstance(t.prompt, list):
                tmpl = self.processor or self.tokenizer
                texts.append(tmpl.apply_chat_template(t.prompt, tokenize=False,
                                                      add_generation_prompt=True))
            else:
                texts.append(t.prompt)
        if self.processor is not None and any(t.images for t in tasks):
            return self.processor(text=texts, images=[im for t in tasks for im in t.images],
                                  return_tensors="pt", padding=True)
        return self.tokenizer(texts, return_tensors="pt", padding=True)

    def rollout(self, tasks: Sequence[Task]):
        """Sample ``group_size`` responses per task; returns (sequences, prompt_len, mask, texts)."""
        import torch

        g = self.config.group_size
        expanded = [t for t in tasks for _ in range(g)]
        inputs = self._encode(expanded).to(self.policy.device)
        self.policy.eval()
        with torch.no_grad():
            seqs = self.policy.generate(
                **inputs, do_sample=True, temperature=self.config.temperature,
                top_p=self.config.top_p, max_new_tokens=self.config.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id)
        prompt_len = inputs["input_ids"].shape[1]
        resp = seqs[:, prompt_len:]
        eos = self.tokenizer.eos_token_id
        # Mask everything after the first EOS (the EOS itself is trained on).
        is_eos = (resp == eos) if eos is not None else torch.zeros_like(resp, dtype=torch.bool)
        after = torch.cumsum(is_eos.int(), dim=1) - is_eos.int()
        mask = (after == 0).float()
        texts = self.tokenizer.batch_decode(resp * mask.long() + (1 - mask.long()) *
                                            self.tokenizer.pad_token_id, skip_special_tokens=True)
        return seqs, inputs, prompt_len, mask, texts, expanded

    def _hidden(self, model, seqs, inputs, prompt_len):
        attn = _attention_mask(seqs, inputs, prompt_len)
        extra = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
        out = model(input_ids=seqs, attention_mask=attn, output_hidden_states=True, **extra)
        # Hidden state at position t predicts token t+1: take the ones that predict the response.
        return out.hidden_states[-1][:, prompt_len - 1:-1, :]

    def _logprobs(self, model, seqs, inputs, prompt_len):
        import torch

        with torch.no_grad():
            h = self._hidden(model, seqs, inputs, prompt_len)
            w = model.get_output_embeddings().weight
            logits = (h.float() @ w.float().T) / self.config.temperature
            tgt = seqs[:, prompt_len:]
            return torch.log_softmax(logits, -1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)

    # -- update ---------------------------------------------------------------------------------
    def step(self, tasks: Sequence[Task]) -> StepMetrics:
        """One rollout + reward + policy update on ``tasks``."""
        import torch

        from verm.kernels import fused_linear_grpo_loss, grpo_advantages

        cfg, t = self.config, {}
        t0 = time.perf_counter()
        seqs, inputs, prompt_len, mask, texts, expanded = self.rollout(tasks)
        t["rollout"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rewards = torch.tensor(self.reward_fn(texts, expanded), dtype=torch.float32)
        t["reward"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        adv = grpo_advantages(rewards.to(seqs.device), cfg.group_size, mode=cfg.advantage_mode)
        old = self._logprobs(self.policy, seqs, inputs, prompt_len)
        ref = (self._logprobs(self.ref_policy, seqs, inputs, prompt_len)
               if self.ref_policy is not None and cfg.kl_coef > 0 else None)
        self.policy.train()
        h = self._hidden(self.policy, seqs, inputs, prompt_len)
        w = self.policy.get_output_embeddings().weight
        loss, metrics = fused_linear_grpo_loss(
            h, w.to(h.dtype), seqs[:, prompt_len:], old, ref, adv, mask.to(seqs.device),
            temperature=cfg.temperature, clip_low=cfg.clip_low, clip_high=cfg.clip_high,
            dual_clip=cfg.dual_clip, kl=cfg.kl if ref is not None else None,
            kl_coef=cfg.kl_coef if ref is not None else 0.0, loss_agg=cfg.loss_agg)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        t["update"] = time.perf_counter() - t0
        self.step_count += 1
        m = StepMetrics(
            step=self.step_count, reward_mean=float(rewards.mean()),
            reward_std=float(rewards.std()) if len(rewards) > 1 else 0.0, loss=float(loss.detach()),
            pg_clipfrac=float(metrics.get("pg_clipfrac", 0.0)),
            ppo_kl=float(metrics.get("ppo_kl", 0.0)), response_length=float(mask.sum(1).mean()),
            seconds=t)
        if cfg.log_path:
            Path(cfg.log_path).parent.mkdir(parents=True, exist_ok=True)
            with open(cfg.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(m.to_dict()) + "\n")
        return m

    def train(self, batches: Iterable[Sequence[Task]], steps: int | None = None,
              progress: bool = True) -> list[StepMetrics]:
        """Run :meth:`step` over ``batches`` (at most ``steps`` of them)."""
        history = []
        bar = None
        if progress:
            try:
                from tqdm import tqdm

                bar = tqdm(total=steps, desc="grpo", unit="step")
            except ImportError:
                bar = None
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            m = self.step(batch)
            history.append(m)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(reward=f"{m.reward_mean:.3f}", loss=f"{m.loss:.4f}")
        if bar is not None:
            bar.close()
        return history


def _attention_mask(seqs, inputs, prompt_len):
    """Attention mask for prompt (as encoded, left padding) + response (all visible)."""
    import torch

    prompt_mask = inputs["attention_mask"]
    resp = torch.ones(seqs.shape[0], seqs.shape[1] - prompt_len, dtype=prompt_mask.dtype,
                      device=seqs.device)
    return torch.cat([prompt_mask, resp], dim=1)
