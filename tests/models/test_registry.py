import json

import bentoml
import pytest

from models.defaults import MODEL_NAME
from models.registry import find, register, resolve
from models.training_record import TRAINING_INFO_FILE


def test_register_copies_the_folder_into_the_store(bento_store, saved_model_dir):
    tag = register(saved_model_dir)
    assert tag.startswith(f"{MODEL_NAME}:")
    path, found_tag = find()
    assert found_tag == tag
    assert path.is_relative_to(bento_store)
    saved = {p.name for p in saved_model_dir.iterdir()}
    assert saved <= {p.name for p in path.iterdir()}
    assert (path / "model.safetensors").read_bytes() == (saved_model_dir / "model.safetensors").read_bytes()


def test_registered_model_carries_training_info_and_task_label(bento_store, saved_model_dir):
    tag = register(saved_model_dir)
    stored = bentoml.models.get(tag)
    info = json.loads((saved_model_dir / TRAINING_INFO_FILE).read_text())
    assert stored.info.metadata["temperature"] == info["temperature"] == 1.5
    assert stored.info.metadata["training_data"] == {"emergent": 10, "fnc1": 5}
    assert stored.info.labels == {"task": "claim-stance"}


def test_latest_is_the_last_registered(bento_store, saved_model_dir):
    first = register(saved_model_dir)
    second = register(saved_model_dir)
    assert first != second
    assert find()[1] == second
    assert find(first)[1] == first


def test_register_under_another_name(bento_store, saved_model_dir):
    tag = register(saved_model_dir, name="experiment")
    assert tag.startswith("experiment:")
    assert find("experiment:latest")[1] == tag
    with pytest.raises(bentoml.exceptions.NotFound):
        find()


def test_find_in_an_empty_store_raises_not_found(bento_store):
    with pytest.raises(bentoml.exceptions.NotFound):
        find()


def test_resolve_accepts_a_folder_a_name_or_a_tag(bento_store, saved_model_dir):
    assert resolve(str(saved_model_dir)) == saved_model_dir
    tag = register(saved_model_dir)
    path = find(tag)[0]
    assert resolve(MODEL_NAME) == path
    assert resolve(tag) == path


def test_the_store_fixture_is_private_to_each_test(bento_store):
    assert bentoml.models.list() == []
