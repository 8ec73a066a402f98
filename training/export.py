"""The model's build step after training: export to ONNX, quantize to int8, choose the default runtime.

`python -m training.export --model artifacts/default` does it for a model already saved (training
runs it itself). The int8 model becomes the default runtime only when its validation macro-F1 (the news
sources' mean, what epochs are chosen on) is within `tolerance` of the PyTorch model's and no label's F1
falls more than `label_floor` below PyTorch's: accuracy hardly sees the rarest label, and int8 once cost
a model a third of its disputing F1 at an accuracy loss under the old 0.5-point rule. The choice and the
figures it rests on go to runtime.json beside the weights, which the service reads. The quantizer's own
messages (some fifty lines of notes and warnings on a first build) go to export.log beside the weights; the
console gets one line saying what was quantized.
"""

from __future__ import annotations

import inspect
import json
import logging
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch
from datasets import Dataset
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from models.checkpoint import load_model
from models.command import Command, exit_with
from models.metrics import score, source_macro_f1
from models.model_config import ModelLoadError
from models.predictor import StancePredictor
from models.registry import register
from models.runtime import ONNX_FILE, RUNTIME_FILE, Runtime
from training.config import default_data_dir
from training.splits import model_splits

log = logging.getLogger("claimstance.export")

ONNX_OPSET = 17
EXPORT_LOG = "export.log"
"""The quantizer's messages, written beside the exported model."""
ONNX_TOLERANCE = 0.01
"""Largest validation macro-F1 loss (1 point) at which the int8 model still becomes the default runtime. The int8
model answers about three times as many pairs a second on two cores (reports/serve: the service on the PyTorch model
answered fewer than a naive pipeline); the default recipe's model loses 0.9 point of validation macro-F1 to int8, and
0.5 kept it on PyTorch."""
LABEL_FLOOR = 0.02
"""Largest loss of any one label's validation F1 (2 points) at which it still does."""
FLOAT_LAYERS = 0
"""Encoder layers, counted from the top, kept in float with the pooler and the classifier (`float_nodes`); 0: every
layer and the head in int8. On the default model one float layer bought 0.1 point of validation macro-F1 (0.6367
against 0.6354; disputing F1 0.571 both) for 24% fewer int8 pairs/s on one thread (147 against 193, Intel
Xeon, 2 cores), so it is a flag, not the default (reports/RESULTS.md)."""


@dataclass(frozen=True)
class RuntimeRule:
    """How the int8 model is built and when it may serve (`int8_keeps_up`)."""

    tolerance: float = field(default=ONNX_TOLERANCE, metadata={"help": "Macro-F1 loss allowed for int8 (0.01)."})
    label_floor: float = field(default=LABEL_FLOOR, metadata={"help": "F1 loss allowed on any label for int8 (0.02)."})
    float_layers: int = field(default=FLOAT_LAYERS, metadata={"help": "Top encoder layers kept in float (0: none)."})


@dataclass(frozen=True)
class ExportConfig(RuntimeRule):
    model: str = field(default="artifacts/default", metadata={"help": "Saved model folder to export."})
    data_dir: str = field(default_factory=default_data_dir, metadata={"help": "Folder of the stance corpora."})
    register: bool = field(default=False, metadata={"help": "Register the folder in the BentoML model store after."})
    num_threads: int = field(default=0, metadata={"help": "Threads for the accuracy check (0: all cores)."})

    @property
    def rule(self) -> RuntimeRule:
        return RuntimeRule(self.tolerance, self.label_floor, self.float_layers)


@dataclass(frozen=True)
class RuntimeChoice:
    default: Runtime
    pairs: int
    macro_f1: dict[str, float]
    """Validation macro-F1 of each runtime, the news sources' mean: the figure the choice rests on."""
    label_f1: dict[str, dict[str, float]]
    """Each runtime's F1 per label over every validation pair: no label may fall past the floor."""
    accuracy: dict[str, float]
    accuracy_by_source: dict[str, dict[str, float]]
    agreement: float
    """Share of validation pairs on which both runtimes give the same label."""
    rule: RuntimeRule


def float_nodes(graph: onnx.GraphProto, num_layers: int, float_layers: int) -> list[str]:
    """The nodes left unquantized: those of the top `float_layers` encoder layers, the pooler and the classifier,
    named by the module path the tracer writes into each node (`/bert/encoder/layer.5/...`, `/classifier/...`).
    The last layers and the head decide between labels whose logits lie close (disputing against reporting), so
    their int8 rounding was the first suspect for a rare label's losses; measured, it moved little (FLOAT_LAYERS)."""
    if float_layers <= 0:
        return []
    marks = (*(f"layer.{i}/" for i in range(num_layers - float_layers, num_layers)), "/pooler/", "/classifier/")
    names = [node.name for node in graph.node if any(mark in node.name for mark in marks)]
    # The quantizer rewrites a Gemm (the pooler's, the classifier's) as `<name>_MatMul` before it checks exclusions.
    return names + [f"{node.name}_MatMul" for node in graph.node if node.name in names and node.op_type == "Gemm"]


def export_onnx(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    out_file: Path,
    quantize: bool = True,
    float_layers: int = FLOAT_LAYERS,
    output: str = "logits",
) -> Path:
    """Trace the model to ONNX (dynamic batch and length) and quantize its weights to int8 per channel, all but the
    top `float_layers` encoder layers and the head (`float_nodes`).

    Per-channel int8 weights kept Emergent accuracy where per-tensor lost 0.6 point on this model.
    Inputs are passed by name, and named in the order of `model.forward`'s parameters, which is the
    order of the traced graph's inputs. `output` names the graph's first output: the classifier's `logits`, or an
    encoder's `last_hidden_state` (one row per token, so its length axis is dynamic too).
    """
    sample = tokenizer(["a claim"], ["a text"], return_tensors="pt")
    names = [name for name in inspect.signature(model.forward).parameters if name in sample]
    per_token = {0: "batch", 1: "tokens"}
    axes = {name: per_token for name in names} | {output: per_token if output == "last_hidden_state" else {0: "batch"}}
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
                output_names=[output],
                dynamic_axes=axes,
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        onnx.checker.check_model(str(fp32))
        if quantize:
            layers = getattr(model.config, "num_hidden_layers", 0)
            log_file = out_file.parent / EXPORT_LOG
            with logged_to(log_file):
                quantize_dynamic(
                    fp32,
                    out_file,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    nodes_to_exclude=float_nodes(onnx.load(str(fp32)).graph, layers, float_layers),
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
            log.info("%s; its messages in %s", quantized_summary(fp32, out_file), log_file)
    return out_file


@contextmanager
def logged_to(log_file: Path) -> Iterator[None]:
    """Send what the block logs through the root logger, prints and warns to `log_file` only.

    onnxruntime's quantizer logs through the root logger (`logging.warning`, `logging.info`) and prints now and
    then: some fifty lines a model, none of them a fault, that buried what the build had to say. The root logger
    keeps its handlers and level again after the block.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    with log_file.open("w") as stream, redirect_stdout(stream), warnings.catch_warnings(record=True) as caught:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        for other in saved_handlers:
            root.removeHandler(other)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        warnings.simplefilter("always")
        try:
            yield
        finally:
            root.removeHandler(handler)
            for other in saved_handlers:
                root.addHandler(other)
            root.setLevel(saved_level)
            stream.writelines(f"WARNING {w.category.__name__}: {w.message}\n" for w in caught)


def quantized_summary(fp32_file: Path, int8_file: Path) -> str:
    """One line on what was quantized: weight matrices in int8 and in float, and the file sizes."""
    graph = onnx.load(str(int8_file)).graph
    weights = {tensor.name for tensor in graph.initializer}
    int8 = sum(1 for tensor in graph.initializer if tensor.name.endswith("_quantized"))
    kept = sum(1 for node in graph.node if node.op_type in ("MatMul", "Gemm") and node.input[1] in weights)
    mb = {path: path.stat().st_size / 1e6 for path in (fp32_file, int8_file)}
    return (
        f"int8 ONNX: {int8} weight matrices quantized per channel, {kept} kept in float; "
        f"{mb[int8_file]:.1f} MB (float: {mb[fp32_file]:.1f} MB)"
    )


def int8_keeps_up(macro_f1: dict[str, float], label_f1: dict[str, dict[str, float]], rule: RuntimeRule) -> bool:
    """int8's macro-F1 within the rule's tolerance of PyTorch's, and each label's F1 within its floor."""
    torch_f1, int8_f1 = label_f1[Runtime.TORCH], label_f1[Runtime.ONNX]
    close = macro_f1[Runtime.ONNX] >= macro_f1[Runtime.TORCH] - rule.tolerance
    return close and all(int8_f1.get(label, 0.0) >= f1 - rule.label_floor for label, f1 in torch_f1.items())


def choose_runtime(
    model_dir: Path, validation: Dataset, rule: RuntimeRule = RuntimeRule(), num_threads: int | None = None
) -> RuntimeChoice:
    """Score the validation pairs with both runtimes; the int8 model is the default if it keeps up (`int8_keeps_up`).

    The choice rests on every validation pair, not the Emergent ones alone: with ~280 Emergent pairs a
    single pair is 0.35 point, too coarse to tell a 0.5-point loss from noise. The per-source figures
    are kept beside it.
    """
    labels = np.asarray(validation["label"])
    sources = np.asarray(validation["source"])
    predicted = {}
    model_labels: tuple[str, ...] = ()
    for runtime in Runtime:
        predictor = StancePredictor.from_dir(model_dir, runtime=runtime, num_threads=num_threads)
        model_labels = predictor.labels
        predicted[runtime] = np.asarray(predictor.score(validation["claim"], validation["text"]).predicted_labels)
    macro_f1 = {str(r): source_macro_f1(labels, p, sources, model_labels)["macro_f1"] for r, p in predicted.items()}
    label_f1 = {
        str(r): {label: c.f1 for label, c in score(labels, p, model_labels).per_class.items() if c.support}
        for r, p in predicted.items()
    }
    accuracy = {str(runtime): float(np.mean(p == labels)) for runtime, p in predicted.items()}
    by_source = {
        source: {
            str(r): float(np.mean(p[sources == source] == labels[sources == source])) for r, p in predicted.items()
        }
        for source in sorted(set(sources))
    }
    keeps_up = int8_keeps_up(macro_f1, label_f1, rule)
    return RuntimeChoice(
        default=Runtime.ONNX if keeps_up else Runtime.TORCH,
        pairs=len(labels),
        macro_f1=macro_f1,
        label_f1=label_f1,
        accuracy=accuracy,
        accuracy_by_source=by_source,
        agreement=float(np.mean(predicted[Runtime.ONNX] == predicted[Runtime.TORCH])),
        rule=rule,
    )


def build_runtime(
    model_dir: Path, validation: Dataset, rule: RuntimeRule = RuntimeRule(), num_threads: int | None = None
) -> RuntimeChoice:
    """Export the saved model in `model_dir`, check it on validation and record the default runtime."""
    model, tokenizer = load_model(model_dir)
    export_onnx(model, tokenizer, model_dir / ONNX_FILE, float_layers=rule.float_layers)
    choice = choose_runtime(model_dir, validation, rule, num_threads)
    (model_dir / RUNTIME_FILE).write_text(json.dumps(asdict(choice), indent=2))
    log.info("runtime: %s", json.dumps(asdict(choice)))
    return choice


def export(config: ExportConfig) -> str:
    """Export, choose the runtime on validation, and register the model if asked: what it ends as."""
    model_dir = Path(config.model)
    _, validation = model_splits(model_dir, config.data_dir)
    choice = build_runtime(model_dir, validation, config.rule, config.num_threads or None)
    registered = f"; registered {register(model_dir)}" if config.register else ""
    return f"{model_dir}: runtime {choice.default}{registered}"


COMMAND = Command(
    "claimstance export",
    "Export a trained model folder to int8 ONNX, choose its runtime on validation pairs, and register it in the "
    "model store (what `claimstance train` does at its end).",
    "claimstance export --model artifacts/default --register true",
    ExportConfig,
    export,
    lambda config, done: done,
    (FileNotFoundError, ModelLoadError),
)


if __name__ == "__main__":
    exit_with(COMMAND)
