"""Critics: compare a ground-truth image with a rendered prediction and list visual errors.

Heavy back ends (transformers, vLLM, httpx) are imported only when their critic is built.
"""

from verm.critic.base import Critic, CriticUnavailable, GenerativeCritic
from verm.critic.parse import CritiqueParseError, parse_critique
from verm.critic.prompts import PromptTemplate, build_messages, default_template
from verm.critic.registry import make_critic

__all__ = [
    "Critic", "CriticUnavailable", "CritiqueParseError", "GenerativeCritic", "PromptTemplate",
    "build_messages", "default_template", "make_critic", "parse_critique",
]
