"""The model the batch job tests score with."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def batch_model(onnx_model_dir) -> Path:
    """The tiny model's folder, with its int8 export chosen as the runtime (as `make train` builds it)."""
    return onnx_model_dir
