"""The models this service serves, as the model store holds them, and the labels its answers' schemas are built for.

Read when the service is imported, because BentoML builds the routes' schemas then: the one piece of import-time
work the service does beyond declaring itself."""

from __future__ import annotations

import bentoml

from models.labels import LABELS
from models.model_config import ModelLoadError, read_model_info
from serving.settings import SETTINGS

STORED_MODEL = bentoml.models.BentoModel(SETTINGS.model)
STORED_EMBEDDER = bentoml.models.BentoModel(SETTINGS.embedder) if SETTINGS.monitor else None


def served_labels(stored_model: bentoml.models.BentoModel) -> tuple[str, ...]:
    """The labels of the model this service will load. A model that is not in the store yet gets every label in the
    schema; `bentoml serve` then stops, naming the missing model, before any answer is given."""
    stored = stored_model.stored
    if stored is None:
        return LABELS
    try:
        return read_model_info(stored.path).labels
    except ModelLoadError:
        return LABELS  # start-up then stops with the load error itself


LABELS_SERVED = served_labels(STORED_MODEL)
