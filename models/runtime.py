"""Which runtime computes the logits: PyTorch on the saved weights, or ONNX Runtime on the int8 export.

Both take the same padded numpy batch and return logits, so the predictor around them is shared. The
runtimes are imported only when chosen: a process serving the ONNX model never loads torch.
"""

from __future__ import annotations

import json
import os
import platform
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

ONNX_FILE = "model.int8.onnx"
"""The int8-quantized ONNX export, written by the model's build step (`training.export`)."""

RUNTIME_FILE = "runtime.json"
"""The build step's choice of default runtime, with the validation figures it was chosen on."""


class Runtime(StrEnum):
    TORCH = "torch"
    ONNX = "onnx"


class ModelSession(Protocol):
    """A loaded model in one runtime (models/onnx_session.py, models/torch_session.py): a batch in, logits out."""

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Logits, shape (rows, labels), for a padded batch of input_ids/attention_mask/token_type_ids."""


def default_batch_size(runtime: Runtime) -> int:
    """Pairs per forward pass. One for the int8 model: dynamic quantization scales activations over the
    whole batch, so a pair's scores would depend on whatever it is batched with (on the Emergent test,
    up to 0.2 in probability and 2% of labels between batches of 1 and 64). Scored alone, every answer
    depends on its own input only; on this CPU, batching bought little speed anyway."""
    return 1 if runtime is Runtime.ONNX else 64


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, set[str]]:
    """The CPU's model name and flags, from /proc/cpuinfo where there is one."""
    name, flags = platform.processor() or platform.machine(), set()
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    return name, flags


BF16_EXTENSIONS = ("avx512_bf16", "amx_bf16")
"""CPU flags of bf16 matrix units: with one, bf16 autocast trains faster; without, far slower (emulated)."""


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    return bool(set(BF16_EXTENSIONS) & cpu_info(cpuinfo)[1])


def preferred_runtime(model_dir: Path | str, onnx_file: str = ONNX_FILE) -> Runtime:
    """The one rule a served model's runtime follows, the stance model's and the embedder's alike: what its build
    step chose (runtime.json: ONNX where the export was found accurate enough), as long as the export is there;
    without a choice written, ONNX where there is an export; else PyTorch."""
    model_dir = Path(model_dir)
    if not (model_dir / onnx_file).is_file():
        return Runtime.TORCH
    choice_file = model_dir / RUNTIME_FILE
    if not choice_file.is_file():
        return Runtime.ONNX
    return Runtime(json.loads(choice_file.read_text()).get("default", Runtime.TORCH))


def chosen_runtime(model_dir: Path | str, choice: str) -> Runtime:
    """`auto` means what the model's build step chose; otherwise the named runtime."""
    if choice == "auto":
        return preferred_runtime(model_dir)
    try:
        return Runtime(choice)
    except ValueError:
        raise ValueError(f"runtime {choice!r}: use auto, {', '.join(Runtime)}") from None


def load_session(model_dir: Path | str, runtime: Runtime, num_threads: int | None = None) -> ModelSession:
    threads = num_threads or available_cores()
    if runtime is Runtime.ONNX:
        from models.onnx_session import OnnxSession

        return OnnxSession(Path(model_dir) / ONNX_FILE, threads)
    from models.checkpoint import load_model
    from models.torch_session import TorchSession

    return TorchSession(load_model(model_dir)[0], threads)
