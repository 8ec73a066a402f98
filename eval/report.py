"""Writing an evaluation report folder: JSON of all figures, text tables and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from models.metrics import CalibrationCurve, Scores  # noqa: E402


def confusion_text(scores: Scores) -> str:
    labels = scores.labels
    corner = "true \\ predicted"
    width = max(map(len, labels)) + 2
    lead = max(len(corner), width) + 2
    lines = [corner.ljust(lead) + "".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, scores.confusion, strict=True):
        lines.append(label.ljust(lead) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines)


def plot_confusion(scores: Scores, title: str, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.imshow(scores.confusion, cmap="Blues")
    axes.set_xticks(range(len(scores.labels)), scores.labels, rotation=30)
    axes.set_yticks(range(len(scores.labels)), scores.labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for i, row in enumerate(scores.confusion):
        for j, n in enumerate(row):
            axes.text(j, i, str(n), ha="center", va="center")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_reliability(
    ece: float, curve: CalibrationCurve, title: str, path: Path, quantity: str = "confidence (top label)"
) -> None:
    """A reliability diagram: mean predicted probability per bin against how often it came true."""
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    filled = [i for i, n in enumerate(curve.count) if n]
    axes.plot([curve.confidence[i] for i in filled], [curve.accuracy[i] for i in filled], marker="o", label="model")
    axes.set_xlabel(quantity)
    axes.set_ylabel("observed frequency")
    axes.set_title(f"{title}\nECE = {ece:.3f}", fontsize=9)
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def per_class_text(scores: Scores) -> str:
    width = max(map(len, scores.labels)) + 2
    lines = [f"{'':{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for label, c in scores.per_class.items():
        lines.append(f"{label:{width}}{c.precision:10.3f}{c.recall:10.3f}{c.f1:10.3f}{c.support:10d}")
    lines.append(f"accuracy {scores.accuracy:.4f}   macro-F1 {scores.macro_f1:.4f}")
    if scores.ece is not None:
        lines.append(f"ECE {scores.ece:.4f}")
    return "\n".join(lines)


def write_json(figures: dict, path: Path) -> None:
    path.write_text(json.dumps(figures, indent=2))
