"""The fine-tuning configuration: a typed dataclass, every field a CLI flag, with named recipes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from models.command import Command
from models.defaults import MAX_LENGTH, default_base_model
from models.labels import LABELS, STANCES
from models.runtime import cpu_has_bf16
from models.sources import CLAIM_EVIDENCE_SOURCES

SHARED_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def default_data_dir() -> str:
    """../shared/data beside the checkout when it exists, else ./data (where `make data` fetches to)."""
    return str(SHARED_DATA_DIR) if SHARED_DATA_DIR.is_dir() else "data"


def data_dir_field() -> Any:
    """The `--data_dir` flag of every command that reads the corpora."""
    return field(
        default_factory=default_data_dir,
        metadata={"help": "The corpora: ../shared/data beside the checkout where it exists, else ./data (make data)."},
    )


class ClaimEvidenceDesign(StrEnum):
    """How the claim–evidence corpora (training/claim_evidence.py) join the news recipe."""

    NONE = "none"
    INTERMEDIATE = "intermediate"
    """First a stage on the claim–evidence pairs alone, then the news recipe on top (as NLI before stance)."""
    MULTITASK = "multitask"
    """One run over both, the claim–evidence pairs through a two-way head of their own on the shared encoder."""
    MIX = "mix"
    """One run over both, the claim–evidence pairs labelled in the news head, their loss weighted."""


@dataclass
class TrainConfig:
    recipe: str = field(default="default", metadata={"help": "Named recipe whose values fill unset flags."})
    data_dir: str = field(default_factory=default_data_dir, metadata={"help": "Folder of the stance corpora."})
    output_dir: str = field(default="", metadata={"help": "Where the model is saved (default: artifacts/<recipe>)."})
    base_model: str = field(default_factory=default_base_model, metadata={"help": "HF model id or local path."})
    sources: str = field(default="emergent,fnc1,arc", metadata={"help": "Comma-separated corpora to train on."})
    train_files: list[str] = field(default_factory=list, metadata={"help": "Own CSV/JSONL/Parquet files."})
    max_fnc_arc_pairs: int = field(
        default=0,
        metadata={
            "help": "Cap on FNC-1+ARC related training pairs (0: all); --max_aux_pairs is its former name.",
            "aliases": ["--max_aux_pairs"],
        },
    )
    balance_aux_labels: bool = field(
        default=False,
        metadata={
            "help": "Draw the capped FNC-1+ARC related pairs evenly across labels instead of at random: more of "
            "their rare disputes in the same minutes."
        },
    )
    relevance: bool = field(
        default=True,
        metadata={"help": "Learn the label `unrelated` (a text not about the claim); false: the three stances only."},
    )
    max_unrelated_pairs: int = field(
        default=0, metadata={"help": "Cap on FNC-1+ARC unrelated training pairs (0: all)."}
    )
    mismatched_per_claim: int = field(
        default=0, metadata={"help": "Unrelated pairs made for each Emergent claim from other claims' headlines."}
    )
    max_validation_pairs: int = field(
        default=0, metadata={"help": "Cap on FNC-1+ARC related validation pairs (0: all)."}
    )
    max_validation_unrelated: int = field(
        default=0, metadata={"help": "Cap on FNC-1+ARC unrelated validation pairs (0: all)."}
    )
    claim_evidence_sources: str = field(
        default="",
        metadata={"help": "Comma-separated claim–evidence corpora to learn from (see training/claim_evidence.py)."},
    )
    claim_evidence_design: ClaimEvidenceDesign = field(
        default=ClaimEvidenceDesign.NONE,
        metadata={"help": "How they join the news recipe: none, intermediate, multitask or mix."},
    )
    max_claim_evidence_pairs: int = field(
        default=1000,
        metadata={"help": "Cap on each claim–evidence corpus's training pairs, drawn evenly across labels."},
    )
    max_claim_evidence_validation: int = field(
        default=300, metadata={"help": "Cap on each claim–evidence corpus's validation pairs (0: all)."}
    )
    claim_evidence_weight: float = field(
        default=1.0, metadata={"help": "Loss weight of a claim–evidence pair against a news pair (mix, multitask)."}
    )
    claim_evidence_epochs: float = field(
        default=1.0, metadata={"help": "Epochs of the claim–evidence stage (intermediate)."}
    )
    negated_claims: bool = field(
        default=False,
        metadata={
            "help": "Each related training pair also seen with its claim negated and its label swapped (asserting "
            "<-> disputing; reporting stays): training/counterfactual.py."
        },
    )
    attributed_evidence: bool = field(
        default=False,
        metadata={
            "help": "Each claim–evidence pair that takes a side also seen with its evidence attributed to a source "
            '("Officials said that ..."), its label kept.'
        },
    )
    max_length: int = field(default=MAX_LENGTH, metadata={"help": "Tokens per pair."})
    epochs: float = field(default=3.0, metadata={"help": "Passes over the training pairs."})
    learning_rate: float = field(default=5e-5, metadata={"help": "AdamW's peak learning rate."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per optimizer step."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW's weight decay."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of the steps the learning rate warms up over."})
    class_weighted_loss: bool = field(default=True, metadata={"help": "Weight the loss by inverse class frequency."})
    validation_fraction: float = field(default=0.15, metadata={"help": "Share of claims held out for validation."})
    seed: int = field(default=42, metadata={"help": "Seed of the validation split, the draws of pairs and training."})
    bf16: str = field(
        default="auto",
        metadata={
            "help": "bf16 autocast: auto (on a GPU, or a CPU with bf16 units: avx512_bf16 or amx_bf16), true or false. "
            "1.5x faster steps on a CPU with AVX512-BF16; 20x slower on one without."
        },
    )
    export_onnx: bool = field(default=True, metadata={"help": "Export int8 ONNX and choose the serving runtime."})
    register: bool = field(default=True, metadata={"help": "Register the model in the BentoML model store."})
    num_threads: int = field(default=0, metadata={"help": "Torch threads (0: all available cores)."})

    def __post_init__(self) -> None:
        """A config rebuilt from a saved model's JSON has the design as a plain string."""
        self.claim_evidence_design = ClaimEvidenceDesign(self.claim_evidence_design)
        self.output_dir = self.output_dir or f"artifacts/{self.recipe}"

    @property
    def use_bf16(self) -> bool:
        choice = self.bf16.lower()
        if choice not in ("auto", "true", "false"):
            raise ValueError(f"--bf16 {self.bf16!r}: use auto, true or false")
        if choice == "auto":
            import torch

            return torch.cuda.is_available() or cpu_has_bf16()
        return choice == "true"

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the model gets: the three stances, and `unrelated` when it learns relevance."""
        return LABELS if self.relevance else STANCES

    @property
    def source_list(self) -> tuple[str, ...]:
        return comma_list(self.sources)

    @property
    def claim_evidence_list(self) -> tuple[str, ...]:
        """The claim–evidence corpora trained on: none under the design `none`."""
        if self.claim_evidence_design is ClaimEvidenceDesign.NONE:
            return ()
        return comma_list(self.claim_evidence_sources)


def comma_list(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


RECIPES: dict[str, dict[str, object]] = {
    "default": {
        "max_fnc_arc_pairs": 800,
        "max_unrelated_pairs": 500,
        "mismatched_per_claim": 4,
        "max_validation_pairs": 1000,
        "max_validation_unrelated": 500,
        "epochs": 2.0,
        "claim_evidence_sources": ",".join(CLAIM_EVIDENCE_SOURCES),
        "claim_evidence_design": ClaimEvidenceDesign.MULTITASK,
        "max_claim_evidence_pairs": 300,
        "negated_claims": True,
        "attributed_evidence": True,
    },
    "quality": {
        "max_fnc_arc_pairs": 0,
        "max_unrelated_pairs": 3000,
        "mismatched_per_claim": 4,
        "max_validation_pairs": 1000,
        "max_validation_unrelated": 500,
        "epochs": 4.0,
        "claim_evidence_sources": ",".join(CLAIM_EVIDENCE_SOURCES),
        "claim_evidence_design": ClaimEvidenceDesign.MULTITASK,
        "max_claim_evidence_pairs": 1000,
    },
    "full": {
        "max_fnc_arc_pairs": 0,
        "max_unrelated_pairs": 10000,
        "mismatched_per_claim": 4,
        "max_validation_pairs": 0,
        "max_validation_unrelated": 2000,
        "epochs": 4.0,
        "max_length": 256,
        "learning_rate": 4e-5,
    },
}
"""`default` is what `make train` builds: Emergent, 800 FNC-1/ARC related pairs and 500 unrelated ones, up to 300
pairs of each claim–evidence corpus through a two-way head of their own (multi-task), each claim–evidence pair that
takes a side also attributed to a speaker, and every related pair also with its claim negated and its label swapped
(training/counterfactual.py); two epochs, about 24 minutes on the reference machine (training/budget.py). `quality`
trains on every FNC-1/ARC related pair and 1,000 pairs of each claim–evidence corpus, without the counterfactual
pairs, in the served window and size, within 2 hours on 2 cores; its news validation pairs are the default's, so the
two compare on them. `full` trains on every pair with a 256-token window: hours on a CPU, minutes on a GPU."""


def recipe_defaults(first: TrainConfig) -> dict[str, object]:
    """The chosen recipe's settings: every flag the user did not give is the recipe's."""
    if first.recipe not in RECIPES:
        raise ValueError(f"--recipe must be one of {', '.join(RECIPES)}, not {first.recipe!r}")
    return RECIPES[first.recipe]


def train_command(run: Callable[[TrainConfig], object]) -> Command[TrainConfig, object]:
    return Command(
        "claimstance train",
        "Fine-tune the stance model on a recipe (default: the served model, about 24 minutes on 2 cores), save it "
        "with its card, export it to int8 ONNX and register it in the model store.",
        "claimstance train --recipe default --output_dir artifacts/default",
        TrainConfig,
        run,
        lambda config, out_dir: f"saved to {out_dir}",
        defaults_from=recipe_defaults,
    )


def parse_config(args: list[str] | None = None) -> TrainConfig:
    """Parse flags, filling every flag the user did not give from the chosen recipe."""
    return train_command(lambda config: config).parse(args)
