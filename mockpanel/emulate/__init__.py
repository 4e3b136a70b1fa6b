"""Emulating a real panel: a profile inferred from a HAR recording of its traffic
(:mod:`~mockpanel.emulate.infer`, what ``mockpanel profiles infer`` writes), and dialects
compared by what they answer: a fixed script of requests run against a profile served
in-process (:mod:`~mockpanel.emulate.script`), each answer reduced to its shape, and the
differences between two profiles' shapes (:mod:`~mockpanel.emulate.shapes`), which is what
``mockpanel profiles diff A B`` prints."""

from __future__ import annotations

from mockpanel.emulate.infer import (
    Inference,
    InferenceError,
    infer,
    inference_yaml,
    read_recording,
)
from mockpanel.emulate.script import Exchange, Transcript, record, run_script
from mockpanel.emulate.shapes import (
    AnswerShape,
    Difference,
    compare,
    diff_command,
    diff_profiles,
    render,
    shape_of,
)

__all__ = [
    "AnswerShape",
    "Difference",
    "Exchange",
    "Inference",
    "InferenceError",
    "Transcript",
    "compare",
    "diff_command",
    "diff_profiles",
    "infer",
    "inference_yaml",
    "read_recording",
    "record",
    "render",
    "run_script",
    "shape_of",
]
