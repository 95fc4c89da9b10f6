"""Adapters that plug verm's reward into RL frameworks (verl, TRL). Neither framework is imported
here: the adapters are plain callables with the signatures those frameworks call."""

from verm.integrations.common import decode_ground_truth

__all__ = ["decode_ground_truth"]
