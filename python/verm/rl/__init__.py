"""A compact GRPO loop for image-to-code policies rewarded by verm (transformers + verm.kernels).

For large-scale training use the verl / TRL adapters in :mod:`verm.integrations`; this loop is for
small runs, ablations of the reward, and as a readable reference of how the pieces fit.
"""

from verm.rl.grpo import GRPOConfig, GRPOTrainer, StepMetrics, Task

__all__ = ["GRPOConfig", "GRPOTrainer", "StepMetrics", "Task"]
