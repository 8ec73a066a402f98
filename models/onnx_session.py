"""Logits from the int8 ONNX export through ONNX Runtime, on a fixed number of threads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from models.model_config import ModelLoadError


class OnnxSession:
    """Idle ORT threads do not busy-wait for work: a server whose event loop shares the cores with them
    needs those cycles between batches."""

    def __init__(self, path: Path, num_threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own untyped errors for missing or corrupt files
            raise ModelLoadError(f"{path}: cannot load the ONNX model: {error}") from error
        self.input_names = [node.name for node in self.session.get_inputs()]

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, {name: batch[name] for name in self.input_names})[0]
