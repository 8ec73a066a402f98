"""The model's build step after training: export to ONNX, quantize to int8, choose the default runtime.

`python -m training.export --model artifacts/default` does it for a model already saved (training
runs it itself). The int8 model becomes the default runtime only when its validation accuracy is
within `tolerance` of the PyTorch model's; the choice and the figures it rests on go to runtime.json
beside the weights, which the service reads.
"""

from __future__ import annotations

import inspect
import json
import logging
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch
from datasets import Dataset
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import HfArgumentParser, PreTrainedModel, PreTrainedTokenizerBase

from models.checkpoint import load_model
from models.predictor import StancePredictor
from models.registry import register
from models.runtime import ONNX_FILE, RUNTIME_FILE, Runtime
from training.config import default_data_dir
from training.splits import model_splits

log = logging.getLogger("claimstance.export")

ONNX_OPSET = 17
ONNX_TOLERANCE = 0.005
"""Largest accuracy loss (0.5 point) at which the int8 model still becomes the default runtime."""


@dataclass
class ExportConfig:
    model: str = field(default="artifacts/default", metadata={"help": "Saved model folder to export."})
    data_dir: str = field(default_factory=default_data_dir, metadata={"help": "Folder of the stance corpora."})
    tolerance: float = field(default=ONNX_TOLERANCE, metadata={"help": "Accuracy loss allowed for int8 (0.005)."})
    register: bool = field(default=False, metadata={"help": "Register the folder in the BentoML model store after."})
    num_threads: int = field(default=0, metadata={"help": "Threads for the accuracy check (0: all cores)."})


@dataclass(frozen=True)
class RuntimeChoice:
    default: Runtime
    pairs: int
    accuracy: dict[str, float]
    """Validation accuracy of each runtime over all sources: the figure the choice rests on."""
    accuracy_by_source: dict[str, dict[str, float]]
    agreement: float
    """Share of validation pairs on which both runtimes give the same label."""
    tolerance: float


def export_onnx(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_file: Path, quantize: bool = True
) -> Path:
    """Trace the model to ONNX (dynamic batch and length) and quantize its weights to int8 per channel.

    Per-channel int8 weights kept Emergent accuracy where per-tensor lost 0.6 point on this model.
    Inputs are passed by name, and named in the order of `model.forward`'s parameters, which is the
    order of the traced graph's inputs.
    """
    sample = tokenizer(["a claim"], ["a text"], return_tensors="pt")
    names = [name for name in inspect.signature(model.forward).parameters if name in sample]
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"logits": {0: "batch"}}
    with tempfile.TemporaryDirectory(prefix="claimstance-onnx-") as tmp:
        fp32 = Path(tmp) / "model.onnx" if quantize else out_file
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
            torch.onnx.export(
                model.eval(),
                (),
                str(fp32),
                kwargs={name: sample[name] for name in names},
                input_names=names,
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        onnx.checker.check_model(str(fp32))
        if quantize:
            quantize_dynamic(
                fp32,
                out_file,
                weight_type=QuantType.QInt8,
                per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
    return out_file


def choose_runtime(
    model_dir: Path, validation: Dataset, tolerance: float = ONNX_TOLERANCE, num_threads: int | None = None
) -> RuntimeChoice:
    """Score the validation pairs with both runtimes; the int8 model is the default if it is close enough.

    The choice rests on every validation pair, not the Emergent ones alone: with ~280 Emergent pairs a
    single pair is 0.35 point, too coarse to tell a 0.5-point loss from noise. The per-source figures
    are kept beside it.
    """
    labels = np.asarray(validation["label"])
    sources = np.asarray(validation["source"])
    predicted = {}
    for runtime in Runtime:
        predictor = StancePredictor.from_dir(model_dir, runtime=runtime, num_threads=num_threads)
        predicted[runtime] = np.asarray(predictor.score(validation["claim"], validation["text"]).predicted_labels)
    accuracy = {str(runtime): float(np.mean(p == labels)) for runtime, p in predicted.items()}
    by_source = {
        source: {
            str(r): float(np.mean(p[sources == source] == labels[sources == source])) for r, p in predicted.items()
        }
        for source in sorted(set(sources))
    }
    close_enough = accuracy[Runtime.ONNX] >= accuracy[Runtime.TORCH] - tolerance
    return RuntimeChoice(
        default=Runtime.ONNX if close_enough else Runtime.TORCH,
        pairs=len(labels),
        accuracy=accuracy,
        accuracy_by_source=by_source,
        agreement=float(np.mean(predicted[Runtime.ONNX] == predicted[Runtime.TORCH])),
        tolerance=tolerance,
    )


def build_runtime(
    model_dir: Path, validation: Dataset, tolerance: float = ONNX_TOLERANCE, num_threads: int | None = None
) -> RuntimeChoice:
    """Export the saved model in `model_dir`, check it on validation and record the default runtime."""
    model, tokenizer = load_model(model_dir)
    export_onnx(model, tokenizer, model_dir / ONNX_FILE)
    choice = choose_runtime(model_dir, validation, tolerance, num_threads)
    (model_dir / RUNTIME_FILE).write_text(json.dumps(asdict(choice), indent=2))
    log.info("runtime: %s", json.dumps(asdict(choice)))
    return choice


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    (config,) = HfArgumentParser(ExportConfig).parse_args_into_dataclasses()
    model_dir = Path(config.model)
    _, validation = model_splits(model_dir, config.data_dir)
    build_runtime(model_dir, validation, config.tolerance, config.num_threads or None)
    if config.register:
        log.info("registered %s", register(model_dir))


if __name__ == "__main__":
    main()
