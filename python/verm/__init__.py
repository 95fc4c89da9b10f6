"""verm: visual equivalence reward modeling (Visual-ERM) for image-to-code RL."""

import os as _os

# Developers can point at another build of the native module (see scripts/dev_build.sh).
if _os.environ.get("VERM_CORE_DIR"):
    __path__.insert(0, _os.path.abspath(_os.environ["VERM_CORE_DIR"]))  # noqa: F821

from verm.records import (
    CATEGORIES,
    KINDS,
    Critique,
    RenderResult,
    RewardResult,
    VisualError,
)

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES", "KINDS", "Critique", "RenderResult", "RewardResult", "VisualError", "__version__",
]
