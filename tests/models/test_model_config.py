import json
import shutil

import pytest

from models.model_config import (
    CONFIG_FILE,
    MAX_LENGTH_KEY,
    TEMPERATURE_KEY,
    ModelLoadError,
    ModelSettings,
    load_tokenizer,
    read_model_settings,
)
from models.settings import MAX_LENGTH


def test_settings_come_from_config_json(saved_model_dir):
    assert read_model_settings(saved_model_dir) == ModelSettings(max_length=128, temperature=1.5)


def test_settings_default_when_the_keys_are_absent():
    assert ModelSettings.from_config({}) == ModelSettings(max_length=MAX_LENGTH, temperature=1.0)
    assert ModelSettings.from_config({MAX_LENGTH_KEY: 64, TEMPERATURE_KEY: 2}) == ModelSettings(64, 2.0)


def test_missing_config_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot read config.json"):
        read_model_settings(tmp_path)


def test_other_labels_are_refused(saved_model_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config["id2label"] = {"0": "agree", "1": "disagree", "2": "discuss"}
    (model_dir / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="labels"):
        read_model_settings(model_dir)


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
