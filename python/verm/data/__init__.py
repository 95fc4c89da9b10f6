"""The data engine: seeded ground-truth generators, perturbations with exact labels, synthesis.

``verm.data.svg_gen``, ``table_gen``, ``chart_gen`` (matplotlib code) and ``spec_gen`` (native
chart specs) each expose ``make_sample(seed, n_errors)`` returning a
:class:`~verm.data.common.Sample`; :mod:`verm.data.user_corpus` does the same for a user's JSONL of
ground-truth code. :func:`verm.data.synth.synthesize` (and ``synthesize_corpus``) render, verify
and write them; :mod:`verm.data.export` turns a synthesised folder into SFT JSONL, a Hugging Face
dataset, verl RL parquet or verm's benchmark JSONL.
"""

from verm.data.common import LabeledError, Sample, severity_from_area

__all__ = ["LabeledError", "Sample", "severity_from_area"]
