"""The evaluation protocol of docs/design.md, implemented once; everything reports through it.

    vertex     LVE, EVE, MVE, FDD in mm on a rig (ICT FaceKit by default)
    lipsync    bilabial closure rate, mouth-opening correlation with lag, viseme accuracy
    emotion    UAR, confusion matrix, the voice-emotion baseline, the expression classifier
    motion     jitter, blink rate, diversity
    control    emotion control: content kept, label over voice, intensity monotonic
    speed      real-time factor, latency, peak memory (``emoface dev speed``)
    graphics   render fps and export time/size (``emoface dev graphics``)
    heldout    which inputs a trained model heard, from its recipe and the corpus
    suites     the quick and full suites, and a user's own data
    runner     runs a suite over every engine, caching per item
    report     markdown table, JSON, figures; ``emoface bench`` (commands) ties them together

Example::

    from emoface.eval import vertex_metrics, bilabial_closure
    errors = vertex_metrics(predicted_animation, reference_animation)   # mm
    print(errors.lve, bilabial_closure(anim.weights, anim.fps, phones).rate)
"""
from __future__ import annotations

from .emotion import confusion_matrix, uar
from .lipsync import (
                      best_lag_correlation,
                      bilabial_closure,
                      mouth_opening_correlation,
                      viseme_accuracy,
)
from .vertex import VertexErrors, vertex_metrics

__all__ = [
                      "VertexErrors",
                      "best_lag_correlation",
                      "bilabial_closure",
                      "confusion_matrix",
                      "mouth_opening_correlation",
                      "uar",
                      "vertex_metrics",
                      "viseme_accuracy",
]
