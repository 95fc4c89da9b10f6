"""Fonts shipped with verm (DejaVu, permissive licence) so rendering never depends on the host."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent

#: Generic CSS families -> the shipped family used for them.
DEFAULT_GENERICS = {
    "sans-serif": "DejaVu Sans",
    "serif": "DejaVu Serif",
    "monospace": "DejaVu Sans Mono",
    "cursive": "DejaVu Sans",
    "fantasy": "DejaVu Sans",
}

# Folders probed for a CJK fallback font (used only if present; never required).
_CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/opentype/noto-cjk",
)


def cjk_font_dirs() -> list[str]:
    """Host folders holding a CJK-capable font, if any are installed."""
    out = []
    for d in _CJK_CANDIDATES:
        p = Path(d)
        if p.is_dir() and any("CJK" in f.name for f in p.iterdir()):
            out.append(str(p))
    return out


def font_dirs(extra: list[str] | tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The font search path: user folders first, then verm's own fonts, then CJK fallbacks."""
    dirs = [str(Path(d)) for d in (extra or [])]
    dirs.append(str(FONT_DIR))
    dirs.extend(cjk_font_dirs())
    return tuple(dirs)


@lru_cache(maxsize=16)
def _fontdb(dirs: tuple[str, ...], generics: tuple[tuple[str, str], ...]):
    from verm import _core

    db = _core.FontDB(list(dirs))
    for generic, family in generics:
        db.set_generic(generic, family)
    return db


def get_fontdb(extra_dirs=None, generics: dict[str, str] | None = None):
    """A cached native ``FontDB`` for these folders (building one scans the font files).

    ``generics`` maps CSS generic names to families; when the user passes font folders, the
    first family found there wins unless a mapping says otherwise.
    """
    g = dict(DEFAULT_GENERICS) if not extra_dirs else {}
    g.update(generics or {})
    return _fontdb(font_dirs(extra_dirs), tuple(sorted(g.items())))
