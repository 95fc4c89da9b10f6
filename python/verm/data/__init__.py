"""The data engine: seeded ground-truth generators, perturbations with exact labels, synthesis.

``verm.data.svg_gen``, ``table_gen`` and ``chart_gen`` each expose ``make_sample(seed, n_errors)``
returning a :class:`~verm.data.common.Sample`; :func:`verm.data.synth.synthesize` renders,
verifies and writes them; :mod:`verm.data.export` turns a synthesised folder into SFT JSONL,
a Hugging Face dataset or verl RL parquet.
"""

from verm.data.common import LabeledError, Sample, severity_from_area

__all__ = ["LabeledError", "Sample", "severity_from_area"]
