"""The model card saved with each model (its README.md): the sections the Hub's card template asks for, filled from
the training record, under metadata the Hub reads. Rendered offline: nothing here asks the Hub anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from models.defaults import BASE_MODEL_HUB_ID, base_model_hub_id
from models.labels import UNRELATED
from models.model_config import CONFIG_NAMESPACE
from models.training_record import TrainingRecord

CARD_TEMPLATE = Path(__file__).with_name("templates") / "model_card.md"
TASK = "text-classification"
LICENCE = "unknown"
"""The Hub's word for the weights' licence: several corpora state none and three are share-alike (`CORPORA`)."""
HYPERPARAMETERS = (
    "epochs",
    "learning_rate",
    "batch_size",
    "weight_decay",
    "warmup_ratio",
    "class_weighted_loss",
    "claim_evidence_design",
    "validation_fraction",
    "seed",
    "bf16",
)
"""The training flags the card lists; training_info.json beside it keeps every one."""


@dataclass(frozen=True)
class Corpus:
    title: str
    texts: str
    licence: str
    """As its source states it (../shared/data/README.md): the card must not promise more."""


CORPORA = {
    "emergent": Corpus("Emergent (Ferreira & Vlachos, NAACL 2016)", "news headlines", "none stated"),
    "fnc1": Corpus("FNC-1 training set (Fake News Challenge, 2017)", "news article bodies", "none stated"),
    "arc": Corpus("ARC (Hanselowski et al., COLING 2018)", "reader posts", "Apache-2.0 (its repository)"),
    "fever": Corpus("FEVER dev (Thorne et al., 2018)", "Wikipedia sentences", "CC BY-SA 3.0"),
    "climate_fever": Corpus("CLIMATE-FEVER (Diggelmann et al., 2020)", "Wikipedia sentences", "none stated"),
    "check_covid": Corpus("Check-COVID (Wang et al., ACL Findings 2023)", "science abstracts", "MIT"),
    "healthver": Corpus("HealthVer (Sarrouti et al., 2021)", "science abstracts", "none stated"),
    "ibm_claim_stance": Corpus("IBM Debater Claim Stance (Bar-Haim et al., 2017)", "debate claims", "CC BY-SA 3.0"),
    "perspectrum": Corpus("Perspectrum (Chen et al., 2019)", "debate perspectives", "CC BY-SA 4.0"),
}
OWN_FILE = Corpus("the trainer's own file", "", "as its owner gives it")


@dataclass(frozen=True)
class SourceRow:
    """One training source in the card's data table."""

    name: str
    corpus: Corpus
    pairs: int
    by_label: dict[str, int]


def hub_base_model(base_model: str) -> str | None:
    """The base model's Hub id for the card's metadata; None for a local folder, which has none to give."""
    name = base_model_hub_id(base_model)
    try:
        validate_repo_id(name)
    except HFValidationError:
        return None
    return None if Path(name).is_dir() else name


def source_rows(training_data: Mapping[str, int], labels: Sequence[str]) -> list[SourceRow]:
    """The training record's counts (`source` and `source label` keys) as one row a source."""
    by_label: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for key, n in training_data.items():
        source, _, label = key.rpartition(" ")
        if source and label in labels:
            by_label.setdefault(source, {})[label] = n
        else:
            totals[key] = n
    return [SourceRow(s, CORPORA.get(s, OWN_FILE), n, by_label.get(s, {})) for s, n in totals.items()]


def validation_results(figures: Mapping[str, float]) -> list[EvalResult]:
    """The validation figures the Hub shows as the model's results: accuracy and macro-F1, overall and a source."""
    overall = {
        "accuracy": ("accuracy", "accuracy"),
        "macro_f1": ("f1", "macro-F1, news sources' mean"),
        "unrelated_f1": ("f1", f"F1 of {UNRELATED}"),
    }
    common = {"task_type": TASK, "task_name": "Claim stance", "dataset_split": "validation"}
    results = [
        EvalResult(
            **common,
            dataset_type="claimstance-validation",
            dataset_name="validation claims of every training source",
            metric_type=metric,
            metric_name=name,
            metric_value=round(figures[key], 4),
        )
        for key, (metric, name) in overall.items()
        if key in figures
    ]
    by_source = {key.removeprefix("macro_f1_"): value for key, value in figures.items() if key.startswith("macro_f1_")}
    results += [
        EvalResult(
            **common,
            dataset_type=source,
            dataset_name=CORPORA[source].title if source in CORPORA else source,
            metric_type="f1",
            metric_name="macro-F1",
            metric_value=round(value, 4),
        )
        for source, value in by_source.items()
    ]
    return results


def card_data(record: TrainingRecord, sources: Sequence[SourceRow]) -> ModelCardData:
    results = validation_results(record.validation_metrics)
    return ModelCardData(
        language="en",
        license=LICENCE,
        library_name="transformers",
        pipeline_tag=TASK,
        tags=["claimstance", "stance-detection", "fact-checking"],
        base_model=hub_base_model(record.base_model),
        datasets=[row.name for row in sources if row.name in CORPORA] or None,
        metrics=["accuracy", "f1"],
        model_name=f"claimstance-{record.recipe}" if results else None,
        eval_results=results or None,
    )


def model_card(record: TrainingRecord, labels: Sequence[str]) -> ModelCard:
    """The card of a model trained as `record` says, with its labels from the model itself."""
    sources = source_rows(record.training_data, labels)
    base_id = hub_base_model(record.base_model)
    return ModelCard.from_template(
        card_data(record, sources),
        template_path=str(CARD_TEMPLATE),
        labels=list(labels),
        has_relevance=UNRELATED in labels,
        unrelated=UNRELATED,
        namespace=CONFIG_NAMESPACE,
        recipe=record.recipe,
        temperature=record.temperature,
        max_length=record.max_length,
        base_model_id=base_id,
        base_model_folder=Path(record.base_model).name,
        base_model_licence="Apache-2.0" if base_id == BASE_MODEL_HUB_ID else None,
        sources=sources,
        citations=[row.corpus.title for row in sources if row.name in CORPORA],
        validation_metrics=record.validation_metrics,
        hyperparameters={k: record.training_config[k] for k in HYPERPARAMETERS if k in record.training_config},
    )
