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


def _install_dev_kernels_finder() -> None:
    """Source checkouts keep the Triton kernels in the top-level kernels/ folder; wheels copy it
    to verm/kernels.  In a checkout (no verm/kernels here, ../../kernels present) resolve
    ``verm.kernels`` to that folder without duplicating code."""
    import importlib.util
    import sys

    here = _os.path.dirname(_os.path.abspath(__file__))
    dev = _os.path.normpath(_os.path.join(here, "..", "..", "kernels"))
    if _os.path.isdir(_os.path.join(here, "kernels")) or not _os.path.isfile(
        _os.path.join(dev, "__init__.py")
    ):
        return

    class _DevKernelsFinder:
        @staticmethod
        def find_spec(name, path=None, target=None):  # noqa: ARG004
            if name != "verm.kernels":
                return None
            return importlib.util.spec_from_file_location(
                name, _os.path.join(dev, "__init__.py"), submodule_search_locations=[dev]
            )

    if not any(getattr(f, "__name__", "") == "_DevKernelsFinder" for f in sys.meta_path):
        sys.meta_path.append(_DevKernelsFinder)


_install_dev_kernels_finder()
