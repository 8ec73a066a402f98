"""The claim monitor's embedding model, built once from the base model: its encoder and tokenizer saved, exported
to ONNX (last hidden states, int8 weights per channel) so that a torch-free service can embed, checked against
PyTorch, and registered in the model store as `claimstance-embedder`.

`python -m training.embedder [--base_model <folder or Hub id>] [--quantize false]` (or `make embedder`). It is not the
stance model: training a new stance model leaves it, and every claim vector made with it, as it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, HfArgumentParser, PreTrainedModel

from models.defaults import EMBEDDER_NAME, default_base_model
from models.embedding import EMBEDDING_ONNX_FILE, SentenceEmbedder
from models.registry import register
from models.runtime import RUNTIME_FILE, Runtime
from training.export import export_onnx

log = logging.getLogger("claimstance.embedder")

CHECK_TEXTS = (
    "Russia's airstrikes in Syria are targeting the Islamic State group.",
    "U.S. Defense Secretary Ash Carter said the strikes hit areas with no Islamic State fighters.",
    "The vaccine does not alter human DNA.",
    "Markets were calm.",
)
MIN_COSINE = 0.98
"""Least cosine between an ONNX embedding and PyTorch's of the same text, for all-MiniLM-L6-v2: int8 weights may move
a vector a little (0.991 with ONNX Runtime's AVX2 kernels, which round the most); more than this means a broken
export. Another encoder may need a floor of its own (`EmbedderConfig.min_cosine`)."""


class LastHiddenState(torch.nn.Module):
    """The encoder with its token-level output alone, traced as the graph's one output: BertModel's own forward
    takes more keywords (use_cache and the like) than the tracer hands through."""

    def __init__(self, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config  # export_onnx reads the layer count

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
        return self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


class EmbedderExportError(RuntimeError):
    """The ONNX embedder does not give PyTorch's vectors."""


@dataclass(frozen=True)
class EmbedderConfig:
    base_model: str = field(default_factory=default_base_model, metadata={"help": "Sentence-embedding model."})
    output_dir: str = "artifacts/embedder"
    quantize: bool = field(default=True, metadata={"help": "int8 weights (per channel) in the ONNX export."})
    register: bool = field(default=True, metadata={"help": f"Register the folder in the store as {EMBEDDER_NAME}."})
    min_cosine: float = field(
        default=MIN_COSINE, metadata={"help": "Least cosine of an exported vector to PyTorch's: below it, refused."}
    )


def build_embedder(config: EmbedderConfig) -> Path:
    out = Path(config.output_dir)
    model = AutoModel.from_pretrained(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    onnx_file = out / EMBEDDING_ONNX_FILE
    export_onnx(LastHiddenState(model), tokenizer, onnx_file, quantize=config.quantize, output="last_hidden_state")
    cosine = check_export(out, config.min_cosine)
    log.info("embedder in %s: ONNX against PyTorch, least cosine %.4f over %d texts", out, cosine, len(CHECK_TEXTS))
    choice = {"default": str(Runtime.ONNX), "least_cosine": cosine, "min_cosine": config.min_cosine}
    (out / RUNTIME_FILE).write_text(json.dumps(choice, indent=2))  # the build step's choice, as the stance model's
    return out


def check_export(model_dir: Path, min_cosine: float = MIN_COSINE) -> float:
    """The least cosine between the export's and PyTorch's embeddings of CHECK_TEXTS; under `min_cosine`, refused."""
    exported = SentenceEmbedder.from_dir(model_dir, Runtime.ONNX).embed(CHECK_TEXTS)
    reference = SentenceEmbedder.from_dir(model_dir, Runtime.TORCH).embed(CHECK_TEXTS)
    cosine = float(np.min(np.sum(exported * reference, axis=1)))
    if cosine < min_cosine:
        raise EmbedderExportError(
            f"{model_dir / EMBEDDING_ONNX_FILE}: cosine {cosine:.4f} to PyTorch's vectors, under the floor {min_cosine}"
        )
    return cosine


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    (config,) = HfArgumentParser(EmbedderConfig).parse_args_into_dataclasses()
    out = build_embedder(config)
    if config.register:
        log.info("registered %s", register(out, EMBEDDER_NAME))


if __name__ == "__main__":
    main()
