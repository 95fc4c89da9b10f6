"""Core records that cross module boundaries. One definition each; everything imports these.

All records are plain dataclasses with ``to_dict``/``from_dict`` (JSON round-trip) so the base
install needs no extra dependency.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Kind = Literal["chart", "table", "svg"]
KINDS: tuple[str, ...] = ("chart", "table", "svg")

RenderStatus = Literal[
    "ok", "fallback", "unsupported", "error", "timeout", "memory", "no_figure", "blank", "crashed"
]
RENDER_STATUSES: tuple[str, ...] = (
    "ok", "fallback", "unsupported", "error", "timeout", "memory", "no_figure", "blank", "crashed",
)

#: Error categories per task kind (Visual-ERM's taxonomy).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "chart": ("structure_error", "data_error", "text_error", "style_error"),
    "svg": ("structure_error", "shape_error", "style_error", "text_symbol_error"),
    "table": ("layout_error", "text_error", "numeric_error"),
}

SEVERITY_NAMES = {1: "minor", 2: "medium", 3: "severe"}


@dataclass
class RenderResult:
    """Outcome of rendering one item.

    ``image`` is an (H, W, 4) uint8 RGBA array with straight alpha, or ``None`` when nothing
    could be drawn. ``status`` is ``ok`` when it was drawn natively, ``fallback`` when another
    backend (resvg) drew it; every other status means ``image`` is ``None`` (``blank`` keeps it).
    """

    image: np.ndarray | None = field(repr=False)
    status: str = "ok"
    backend: str = "native"
    message: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in RENDER_STATUSES:
            raise ValueError(f"unknown render status {self.status!r}")

    @property
    def ok(self) -> bool:
        """True when an image was produced (natively or by a fallback)."""
        return self.image is not None and self.status in ("ok", "fallback")

    def to_dict(self, with_image: bool = False) -> dict[str, Any]:
        d = {
            "status": self.status, "backend": self.backend, "message": self.message,
            "seconds": self.seconds, "extra": self.extra,
        }
        if self.image is not None:
            d["shape"] = list(self.image.shape)
            if with_image:
                d["image"] = self.image.tolist()
        return d


@dataclass
class VisualError:
    """One visual discrepancy between the ground truth and the rendered prediction."""

    category: str
    severity: int
    location: str = ""
    description: str = ""
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in GT pixels

    def __post_init__(self) -> None:
        self.severity = int(self.severity)
        if self.severity not in (1, 2, 3):
            raise ValueError(f"severity must be 1, 2 or 3, got {self.severity}")
        if self.bbox is not None:
            if len(self.bbox) != 4:
                raise ValueError("bbox must have 4 numbers (x0, y0, x1, y1)")
            self.bbox = tuple(float(v) for v in self.bbox)  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["bbox"] = list(self.bbox) if self.bbox is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VisualError:
        return cls(
            category=str(d["category"]), severity=int(d["severity"]),
            location=str(d.get("location", "") or ""), description=str(d.get("description", "") or ""),
            bbox=tuple(d["bbox"]) if d.get("bbox") is not None else None,
        )


@dataclass
class Critique:
    """A critic's verdict on one (ground truth, prediction) pair."""

    errors: list[VisualError] = field(default_factory=list)
    counts_by_category: dict[str, int] = field(default_factory=dict)
    raw_text: str = ""
    parse_ok: bool = True

    @property
    def severity_sum(self) -> int:
        return sum(e.severity for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": [e.to_dict() for e in self.errors],
            "counts_by_category": dict(self.counts_by_category),
            "raw_text": self.raw_text,
            "parse_ok": self.parse_ok,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Critique:
        return cls(
            errors=[VisualError.from_dict(e) for e in d.get("errors", [])],
            counts_by_category={str(k): int(v) for k, v in d.get("counts_by_category", {}).items()},
            raw_text=str(d.get("raw_text", "")),
            parse_ok=bool(d.get("parse_ok", True)),
        )


@dataclass
class RewardResult:
    """The reward for one response, with everything needed to explain it."""

    reward: float
    severity_sum: float | None = None
    errors: list[VisualError] = field(default_factory=list)
    status: str = "ok"  # ok | no_code | render_failed | blank | critic_failed | critic_unparseable | bad_request
    render_status: str | None = None
    critic: str = ""
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "reward": self.reward, "severity_sum": self.severity_sum,
            "errors": [e.to_dict() for e in self.errors], "status": self.status,
            "render_status": self.render_status, "critic": self.critic,
            "seconds_by_stage": dict(self.seconds_by_stage), "message": self.message,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RewardResult:
        return cls(
            reward=float(d["reward"]), severity_sum=d.get("severity_sum"),
            errors=[VisualError.from_dict(e) for e in d.get("errors", [])],
            status=str(d.get("status", "ok")), render_status=d.get("render_status"),
            critic=str(d.get("critic", "")),
            seconds_by_stage={k: float(v) for k, v in d.get("seconds_by_stage", {}).items()},
            message=str(d.get("message", "")),
        )
