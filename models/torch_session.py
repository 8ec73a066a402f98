"""Logits from the PyTorch model, in inference mode, on a thread count set once."""

from __future__ import annotations

import numpy as np
import torch
from transformers import PreTrainedModel


class TorchSession:
    def __init__(self, model: PreTrainedModel, num_threads: int) -> None:
        self.model = model.eval()
        torch.set_num_threads(num_threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            inputs = {key: torch.from_numpy(value) for key, value in batch.items()}
            return self.model(**inputs).logits.float().numpy()
