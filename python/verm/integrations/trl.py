"""TRL adapter: a reward function for ``GRPOTrainer(reward_funcs=[...])``.

    from verm.integrations.trl import VisualReward
    trainer = GRPOTrainer(model=..., reward_funcs=[VisualReward(critic="pixel")],
                          train_dataset=ds, ...)

The dataset needs a ground-truth image column (``gt_image`` by default: path, bytes, data URL,
PIL image or HF ``Image`` dict) and optionally a ``kind`` column (chart / table / svg). TRL
passes every dataset column to reward functions as keyword lists, one entry per completion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verm.integrations.common import cached_critic, completion_text, decode_ground_truth
from verm.records import RewardResult


@dataclass
class VisualReward:
    """Callable ``(prompts, completions, **columns) -> list[float]`` as TRL expects.

    ``last_results`` keeps the full :class:`~verm.records.RewardResult` list of the latest call
    (for logging error lists or reflection prompts).
    """

    critic: str = "pixel"
    preset: str = "visual-erm"
    image_column: str = "gt_image"
    kind_column: str = "kind"
    default_kind: str = "auto"
    batch_size: int = 32
    last_results: list[RewardResult] = field(default_factory=list, repr=False)

    @property
    def __name__(self) -> str:  # TRL names the logged reward after the function
        return f"verm_{self.critic.split(':', 1)[0]}"

    def __call__(self, prompts: list[Any] | None = None, completions: list[Any] | None = None,
                 **columns: Any) -> list[float]:
        from verm.reward import score_batch

        completions = completions or []
        if self.image_column not in columns:
            raise KeyError(f"the dataset has no {self.image_column!r} column with ground-truth images")
        gts = [decode_ground_truth(g) for g in columns[self.image_column]]
        kinds = columns.get(self.kind_column) or [self.default_kind] * len(completions)
        texts = [completion_text(c) for c in completions]
        self.last_results = score_batch(texts, gts, list(kinds), cached_critic(self.critic),
                                        self.preset, batch_size=self.batch_size)
        return [float(r.reward) for r in self.last_results]
