"""What a trained model's folder says of how it was made: its training record, kept as training_info.json beside
the weights (it rebuilds the model's splits: training/splits.py) and rendered into the model card (models/card.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

TRAINING_INFO_FILE = "training_info.json"


@dataclass
class TrainingRecord:
    """Where the model came from and how good it was on its validation pairs."""

    base_model: str
    recipe: str
    temperature: float
    max_length: int
    training_data: dict[str, int] = field(default_factory=dict)
    validation_metrics: dict[str, float] = field(default_factory=dict)
    training_config: dict[str, object] = field(default_factory=dict)
    """Every training flag, so the model can be rebuilt."""

    def save(self, model_dir: Path) -> Path:
        path = Path(model_dir) / TRAINING_INFO_FILE
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def saved_training_config(model_dir: Path | str) -> dict[str, object]:
    """The training flags saved with a model ({} for a folder without them: a model not trained here)."""
    path = Path(model_dir) / TRAINING_INFO_FILE
    return dict(json.loads(path.read_text()).get("training_config") or {}) if path.is_file() else {}
