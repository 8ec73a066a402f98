import json
import shutil

import pytest

from models.defaults import MAX_LENGTH
from models.labels import LABELS, STANCES
from models.model_config import (
    CONFIG_FILE,
    CONFIG_NAMESPACE,
    InferenceConfig,
    ModelInfo,
    ModelLoadError,
    load_tokenizer,
    read_model_info,
)

FOUR = {"id2label": {"0": "asserting", "1": "disputing", "2": "reporting", "3": "unrelated"}}


def test_labels_and_settings_come_from_config_json(saved_model_dir, saved_three_label_model_dir):
    assert read_model_info(saved_model_dir) == ModelInfo(LABELS, InferenceConfig(128, 1.5))
    assert read_model_info(saved_three_label_model_dir) == ModelInfo(STANCES, InferenceConfig(128, 1.5))
    config = json.loads((saved_model_dir / CONFIG_FILE).read_text())
    assert config[CONFIG_NAMESPACE] == {"max_length": 128, "temperature": 1.5}


def test_relevance_is_known_only_to_a_model_with_the_unrelated_label():
    assert ModelInfo(LABELS).has_relevance
    assert not ModelInfo(STANCES).has_relevance


def test_settings_default_when_the_keys_are_absent():
    assert ModelInfo.from_config(FOUR).inference == InferenceConfig(MAX_LENGTH, 1.0)


def test_a_model_saved_before_the_namespace_keeps_its_settings():
    legacy = {"id2label": {"0": "asserting", "1": "disputing", "2": "reporting"}}
    settings = ModelInfo.from_config(legacy | {"stance_max_length": 64, "stance_temperature": 2})
    assert settings == ModelInfo(STANCES, InferenceConfig(64, 2.0))


def test_the_models_own_label_order_is_kept():
    settings = ModelInfo.from_config({"id2label": {"0": "unrelated", "1": "reporting", "2": "asserting"}})
    assert settings.labels == ("unrelated", "reporting", "asserting")


def test_missing_config_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot read config.json"):
        read_model_info(tmp_path)


@pytest.mark.parametrize(
    "id2label",
    [
        {"0": "agree", "1": "disagree", "2": "discuss"},
        {"0": "LABEL_0", "1": "LABEL_1"},
        {"0": "asserting", "1": "asserting"},
        {"0": "asserting"},
        {},
    ],
)
def test_labels_that_are_not_claimstances_are_refused(saved_model_dir, tmp_path, id2label):
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config["id2label"] = id2label
    (model_dir / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="are not claimstance labels"):
        read_model_info(model_dir)


def test_tokenizer_encodes_pairs_exactly_as_autotokenizer_with_token_types(saved_model_dir, tokenizer):
    loaded = load_tokenizer(saved_model_dir)
    claims, texts = ["A Meteorite crashed near Managua"], ["Officials denied it. Nothing fell."]
    expected = dict(tokenizer(claims, texts))
    assert dict(loaded(claims, texts)) == expected
    assert "token_type_ids" in expected and 1 in expected["token_type_ids"][0]


def test_tokenizer_loading_does_not_import_torch(saved_model_dir):
    import subprocess
    import sys

    code = (
        "import sys; from models.model_config import load_tokenizer; "
        f"load_tokenizer({str(saved_model_dir)!r}); import onnxruntime; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unreadable_tokenizer_is_a_model_load_error(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot load tokenizer"):
        load_tokenizer(tmp_path)
