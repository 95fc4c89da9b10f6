"""Critic prompts: category definitions per kind and the message layout sent to a generative critic.

The prompt is a :class:`string.Template` (``$name`` placeholders, so JSON braces need no escaping).
Users pass their own template file with :meth:`PromptTemplate.from_file`; the placeholders are
``$kind``, ``$kind_name``, ``$categories``, ``$category_definitions``, ``$count_fields``,
``$example`` and ``$text_category``. Images always go in the order [ground truth, prediction].
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verm.records import CATEGORIES

__all__ = [
    "CATEGORY_DEFINITIONS", "KIND_NAMES", "PromptTemplate", "build_messages", "default_template",
]

_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

KIND_NAMES = {"chart": "chart", "svg": "vector graphic (SVG)", "table": "table"}

#: One sentence per category, in verm's own words.
CATEGORY_DEFINITIONS: dict[str, dict[str, str]] = {
    "chart": {
        "structure_error": "the chart's make-up differs: chart type, subplot arrangement, a missing or "
        "extra series, axis, legend or colour bar, or elements placed in a different part of the figure",
        "data_error": "the plotted values differ: bar heights, point positions, line shapes, slice "
        "sizes, number of data points, axis ranges or axis scales",
        "text_error": "written text differs: title, axis labels, tick labels, legend entries, "
        "annotations or data labels are missing, extra, or say something else",
        "style_error": "appearance differs while data and layout match: colours, line styles, "
        "markers, line widths, fonts, transparency, grid lines, hatching",
    },
    "svg": {
        "structure_error": "the composition differs: elements are missing or extra, arranged or "
        "layered differently, or grouped so that the overall picture changes",
        "shape_error": "an element's geometry differs: its outline, size, proportions, position, "
        "rotation, corner rounding or path",
        "style_error": "an element's paint differs: fill or stroke colour, gradient, opacity, stroke "
        "width or dash pattern",
        "text_symbol_error": "text, digits or symbols differ: wrong, missing or extra characters, "
        "icons or glyphs, or a different font size or weight",
    },
    "table": {
        "layout_error": "the table's structure differs: missing, extra or reordered rows or columns, "
        "merged or split cells, header structure, alignment or borders",
        "text_error": "a non-numeric cell or header says something else, is empty, or has extra text",
        "numeric_error": "a number in a cell differs: value, digits, sign, decimal places, "
        "percent sign or unit",
    },
}

_TEXT_CATEGORY = {"chart": "text_error", "svg": "text_symbol_error", "table": "text_error"}


def _example(kind: str) -> str:
    cats = CATEGORIES[kind]
    obj: dict[str, Any] = {f"{c}_count": (1 if i == 0 else 0) for i, c in enumerate(cats)}
    obj["errors"] = [{
        "category": cats[0], "severity": 2, "location": "short phrase",
        "description": "what differs between image 1 and image 2",
    }]
    return json.dumps(obj, indent=2)


@dataclass(frozen=True)
class PromptTemplate:
    """A critic prompt (user text) plus an optional system message."""

    text: str
    system: str | None = None
    name: str = "default"

    @classmethod
    def from_file(cls, path: str | Path, system_path: str | Path | None = None) -> PromptTemplate:
        """Load a user template (and optionally a system message) from text files."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        system = Path(system_path).read_text(encoding="utf-8").strip() if system_path else None
        tmpl = cls(text=text, system=system, name=p.name)
        tmpl.render("svg")  # fail early on unknown placeholders
        return tmpl

    def render(self, kind: str) -> str:
        """The prompt text for one kind."""
        if kind not in CATEGORIES:
            raise ValueError(f"unknown kind {kind!r}")
        cats = CATEGORIES[kind]
        defs = "\n".join(f"- {c}: {CATEGORY_DEFINITIONS[kind][c]}." for c in cats)
        try:
            return string.Template(self.text).substitute(
                kind=kind, kind_name=KIND_NAMES[kind], categories=", ".join(cats),
                category_definitions=defs,
                count_fields=", ".join(f'"{c}_count"' for c in cats),
                example=_example(kind), text_category=_TEXT_CATEGORY[kind],
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"prompt template {self.name!r}: bad placeholder {exc}") from exc


def default_template() -> PromptTemplate:
    """verm's built-in prompt."""
    return PromptTemplate(
        text=(_TEMPLATE_DIR / "default.txt").read_text(encoding="utf-8"),
        system=(_TEMPLATE_DIR / "system.txt").read_text(encoding="utf-8").strip(),
        name="default",
    )


def build_messages(
    kind: str, template: PromptTemplate | None = None, gt_image: Any = None, pred_image: Any = None,
) -> list[dict[str, Any]]:
    """Chat messages for one comparison, images in the order [ground truth, prediction].

    Image parts are ``{"type": "image", "image": <obj>}`` (the Hugging Face chat-template form);
    :func:`verm.critic.openai_critic.to_openai_messages` converts them to ``image_url`` parts.
    """
    template = template or default_template()
    content = [
        {"type": "text", "text": "Image 1 (ground truth):"},
        {"type": "image", "image": gt_image},
        {"type": "text", "text": "Image 2 (rendered prediction):"},
        {"type": "image", "image": pred_image},
        {"type": "text", "text": template.render(kind)},
    ]
    msgs: list[dict[str, Any]] = []
    if template.system:
        msgs.append({"role": "system", "content": [{"type": "text", "text": template.system}]})
    msgs.append({"role": "user", "content": content})
    return msgs
