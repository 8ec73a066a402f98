import json
from pathlib import Path

import bentoml
import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import training.train as train_module
from models.defaults import MODEL_NAME
from models.labels import LABELS, STANCES
from models.model_config import CONFIG_NAMESPACE
from models.predictor import StancePredictor
from models.registry import find
from models.training_record import TRAINING_INFO_FILE
from tests.helpers import pairs_of
from training.config import TrainConfig
from training.splits import AUX_SOURCES, build_splits

FILLER = " ".join(f"Farmers in the valley planted barley during week {i} of the season." for i in range(40))
PAIRS = [
    ("A meteorite crashed near the airport in Managua", "Officials confirmed that a meteorite crashed there."),
    ("The zoo's panda gave birth to triplets", "The zoo denied reports of triplets; it is a hoax."),
    ("A meteorite crashed near the airport in Managua", FILLER + " Officials denied that a meteorite hit Managua."),
    ("A singer bought an island", "Reports claim the singer bought an island, but nobody confirmed it."),
]


def tiny_config(synthetic_corpus, tiny_base_model_dir, output_dir, **overrides) -> TrainConfig:
    values = {
        "recipe": "test",
        "data_dir": str(synthetic_corpus.path),
        "output_dir": str(output_dir),
        "base_model": str(tiny_base_model_dir),
        "sources": "emergent,fnc1,arc",
        "max_fnc_arc_pairs": 10,
        "max_unrelated_pairs": 0,
        "mismatched_per_claim": 1,
        "max_validation_pairs": 0,
        "max_validation_unrelated": 0,
        "max_length": 64,
        "epochs": 1.0,
        "batch_size": 16,
        "learning_rate": 1e-3,
        "validation_fraction": 0.25,
        "seed": 0,
        "register": False,
        "num_threads": 1,
    }
    return TrainConfig(**{**values, **overrides})


def probabilities(predictor: StancePredictor) -> np.ndarray:
    return np.array([[p.scores[label] for label in predictor.labels] for p in predictor.predict(pairs_of(PAIRS))])


@pytest.fixture(scope="module")
def trained(synthetic_corpus, tiny_base_model_dir, tmp_path_factory, model_store_at):
    """One short training run, registering into a temporary store; the model it saved is kept for comparison."""
    root = tmp_path_factory.mktemp("train")
    config = tiny_config(synthetic_corpus, tiny_base_model_dir, root / "model", register=True)
    saved = {}
    real_save = train_module.save_model

    def spy(model, tokenizer, out_dir, record):
        saved.update(model=model, tokenizer=tokenizer, record=record)
        return real_save(model, tokenizer, out_dir, record)

    with pytest.MonkeyPatch.context() as patch, model_store_at(root / "store") as store:
        patch.setattr(train_module, "save_model", spy)
        out = train_module.train(config)
        tag = find()[1]
        stored = bentoml.models.get(tag)
        yield {"out": out, "config": config, "store": store, "tag": tag, "stored": stored, **saved}


@pytest.mark.e2e
def test_training_saves_a_complete_model_folder(trained):
    out = trained["out"]
    assert out == Path(trained["config"].output_dir)
    assert (out / "model.safetensors").is_file()
    assert not (out / "pytorch_model.bin").exists()
    assert (out / "README.md").is_file()
    assert (out / "tokenizer.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "asserting", "1": "disputing", "2": "reporting", "3": "unrelated"}
    info = json.loads((out / TRAINING_INFO_FILE).read_text())
    settings = config[CONFIG_NAMESPACE]
    assert settings["temperature"] == pytest.approx(info["temperature"]) == info["validation_metrics"]["temperature"]
    assert info["temperature"] > 0
    assert settings["max_length"] == info["max_length"] == 64
    assert f"{info['temperature']:.4f}" in (out / "README.md").read_text()


@pytest.mark.e2e
def test_training_data_respects_the_caps_and_is_recorded(trained):
    info = json.loads((trained["out"] / TRAINING_INFO_FILE).read_text())
    counts = info["training_data"]
    assert {"emergent", "fnc1", "arc"} <= set(counts)
    related = sum(n for name, n in counts.items() if " " in name and name.split()[0] in AUX_SOURCES and
                  not name.endswith("unrelated"))  # fmt: skip
    assert related == 10
    # FNC-1/ARC unrelated pairs are uncapped here; Emergent gets one mismatched pair per training claim.
    assert counts.get("fnc1 unrelated", 0) + counts.get("arc unrelated", 0) >= 1
    train, _ = build_splits(trained["config"])
    emergent_claims = {g for g, s, label in zip(train["group"], train["source"], train["label"], strict=True)
                       if s == "emergent" and label != "unrelated"}  # fmt: skip
    assert counts["emergent unrelated"] == len(emergent_claims) > 0
    metrics = info["validation_metrics"]
    assert {"accuracy", "macro_f1", "ece", "ece_uncalibrated", "unrelated_f1", "relevance_ece"} <= set(metrics)


@pytest.mark.e2e
def test_saved_model_predicts_like_the_trained_one(trained):
    in_memory = StancePredictor.from_model(trained["model"], trained["tokenizer"], num_threads=1)
    loaded = StancePredictor.from_dir(trained["out"], num_threads=1)
    assert loaded.temperature == pytest.approx(trained["record"].temperature)
    assert loaded.labels == LABELS
    assert loaded.max_length == in_memory.max_length == 64
    np.testing.assert_allclose(probabilities(loaded), probabilities(in_memory), atol=1e-6)
    # Logits too: a model left in bf16 autocast by mixed-precision training rounds them to 3 significant digits.
    claims, texts = zip(*PAIRS, strict=True)
    np.testing.assert_allclose(loaded.logits(claims, texts)[0], in_memory.logits(claims, texts)[0], atol=1e-5)
    assert [p.label for p in loaded.predict(pairs_of(PAIRS))] == [p.label for p in in_memory.predict(pairs_of(PAIRS))]
    assert [p.text_reduced for p in loaded.predict(pairs_of(PAIRS))] == [False, False, True, False]


@pytest.mark.e2e
def test_counterfactual_pairs_train_and_are_recorded(synthetic_corpus, tiny_base_model_dir, tmp_path):
    plain = tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path / "plain", export_onnx=False)
    both = tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path / "both", export_onnx=False,
                       negated_claims=True, attributed_evidence=True)  # fmt: skip
    counts = [json.loads((train_module.train(c) / TRAINING_INFO_FILE).read_text()) for c in (plain, both)]
    plain_counts, both_counts = (info["training_data"] for info in counts)
    assert both_counts["emergent"] > plain_counts["emergent"]  # each related Emergent pair twice
    assert both_counts["emergent unrelated"] == plain_counts["emergent unrelated"]  # no stance to swap
    assert counts[1]["training_config"]["negated_claims"] is True


@pytest.mark.e2e
def test_training_changed_the_base_weights(trained, tiny_base_model_dir):
    base = load_file(tiny_base_model_dir / "model.safetensors")
    tuned = load_file(trained["out"] / "model.safetensors")
    name = next(k for k in base if k.endswith("embeddings.word_embeddings.weight"))
    tuned_name = next(k for k in tuned if k.endswith("embeddings.word_embeddings.weight"))
    assert base[name].shape == tuned[tuned_name].shape
    assert not torch.equal(base[name], tuned[tuned_name])


@pytest.mark.e2e
def test_training_registers_the_model_in_the_store(trained):
    path, tag = trained["stored"].path, trained["tag"]
    assert tag.startswith(f"{MODEL_NAME}:")
    assert str(path).startswith(str(trained["store"]))
    assert trained["stored"].info.metadata["temperature"] == pytest.approx(trained["record"].temperature)
    stored = StancePredictor.from_dir(path, num_threads=1)
    loaded = StancePredictor.from_dir(trained["out"], num_threads=1)
    np.testing.assert_allclose(probabilities(stored), probabilities(loaded), atol=1e-6)


@pytest.mark.e2e
def test_training_without_register_leaves_the_store_alone(synthetic_corpus, tiny_base_model_dir, bento_store, tmp_path):
    """Trains on Emergent plus a user's file only (so the user-file path is covered too)."""
    user_file = tmp_path / "mine.csv"
    pd.DataFrame(
        {
            "claim": [f"User claim {i // 3}" for i in range(12)],
            "text": [f"User text {i} says it is {['true', 'false', 'rumoured'][i % 3]}." for i in range(12)],
            "label": ["agree", "disagree", "discuss"] * 4,
        }
    ).to_csv(user_file, index=False)
    config = tiny_config(
        synthetic_corpus,
        tiny_base_model_dir,
        tmp_path / "model",
        sources="emergent",
        train_files=[str(user_file)],
        relevance=False,
    )
    out = train_module.train(config)
    assert bentoml.models.list() == []
    info = json.loads((out / TRAINING_INFO_FILE).read_text())
    assert {name for name in info["training_data"] if " " not in name} == {"emergent", "mine"}
    predictor = StancePredictor.from_dir(out, num_threads=1)
    assert predictor.labels == STANCES  # trained without relevance: three labels, and no relevance
    assert all(p.relevance is None for p in predictor.predict(pairs_of(PAIRS)))


# --- the pieces, without training ---------------------------------------------------------------


def test_evaluation_keeps_validation_order_for_per_source_metrics(tiny_model, tokenizer, tmp_path):
    """Length-grouped training must not reorder evaluation: metrics map rows to sources by position."""
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, TrainingArguments

    from training.train import StanceTrainer

    lengths = [3, 40, 7, 25, 1, 33, 12, 2]
    rows = {"input_ids": [[101] + [2000] * n + [102] for n in lengths], "labels": list(range(len(lengths)))}
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_eval_batch_size=2,
        train_sampling_strategy="group_by_length",
        dataloader_pin_memory=False,
        report_to=[],
    )
    trainer = StanceTrainer(
        model=tiny_model,
        args=args,
        eval_dataset=Dataset.from_dict(rows),
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    seen = [int(x) for batch in trainer.get_eval_dataloader() for x in batch["labels"]]
    assert seen == rows["labels"]


def test_a_model_asked_to_learn_relevance_without_unrelated_pairs_is_refused(
    synthetic_corpus, tiny_base_model_dir, tmp_path
):
    config = tiny_config(
        synthetic_corpus, tiny_base_model_dir, tmp_path / "model", sources="emergent", mismatched_per_claim=0
    )
    with pytest.raises(SystemExit, match="no training pairs labelled unrelated.*--relevance false"):
        train_module.train(config)


@pytest.mark.e2e
@pytest.mark.parametrize("design", ["multitask", "intermediate", "mix"])
def test_a_tiny_model_trains_on_news_and_claim_evidence_pairs(design, synthetic_corpus, tiny_base_model_dir, tmp_path):
    config = tiny_config(
        synthetic_corpus,
        tiny_base_model_dir,
        tmp_path / "model",
        claim_evidence_sources="fever,ibm_claim_stance,perspectrum",
        claim_evidence_design=design,
        max_claim_evidence_pairs=6,
        export_onnx=False,
    )
    out = train_module.train(config)
    info = json.loads((out / TRAINING_INFO_FILE).read_text())
    counts = info["training_data"]
    for source in ("fever", "ibm_claim_stance", "perspectrum"):
        assert counts[source] == 6
        assert counts[f"{source} asserting"] == counts[f"{source} disputing"] == 3
    metrics = info["validation_metrics"]
    assert {"macro_f1_fever", "macro_f1_ibm_claim_stance", "macro_f1_perspectrum"} <= set(metrics)
    news = [metrics[f"macro_f1_{source}"] for source in ("emergent", "fnc1", "arc") if f"macro_f1_{source}" in metrics]
    assert metrics["macro_f1"] == pytest.approx(np.mean(news))
    assert not [name for name in load_file(out / "model.safetensors") if "claim_evidence" in name]
    predictor = StancePredictor.from_dir(out, num_threads=1)
    assert predictor.labels == LABELS
    assert {p.label for p in predictor.predict(pairs_of(PAIRS))} <= set(LABELS)


def test_the_design_none_trains_on_no_claim_evidence_pair(synthetic_corpus, tiny_base_model_dir, tmp_path):
    config = tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path, claim_evidence_sources="fever")
    train, validation = build_splits(config)
    assert "fever" not in set(train["source"]) | set(validation["source"])
    with pytest.raises(ValueError, match="'pour'"):
        tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path, claim_evidence_design="pour")
