import pytest

import training.config as training_config
from training.config import RECIPES, TrainConfig, parse_config


def test_default_recipe_fills_unset_flags():
    config = parse_config([])
    assert config.recipe == "default"
    assert config.max_fnc_arc_pairs == 800
    assert config.max_validation_pairs == 1000
    assert config.epochs == 2.0
    assert config.negated_claims and config.attributed_evidence
    assert not parse_config(["--recipe", "quality"]).negated_claims  # a recipe that does not name them: off
    # Fields no recipe names keep the dataclass defaults.
    assert config.batch_size == TrainConfig.batch_size == 32
    assert config.max_length == 128


def test_full_recipe_values_fill_unset_flags():
    config = parse_config(["--recipe", "full"])
    for name, value in RECIPES["full"].items():
        assert getattr(config, name) == value, name
    assert config.max_length == 256
    assert config.learning_rate == 4e-5


def test_explicit_flags_win_over_the_recipe():
    config = parse_config(["--recipe", "full", "--epochs", "1", "--learning_rate", "1e-4", "--max_fnc_arc_pairs", "10"])
    assert config.epochs == 1.0
    assert config.learning_rate == 1e-4
    assert config.max_fnc_arc_pairs == 10
    assert config.max_length == 256  # not given: still from the recipe


def test_explicit_flag_equal_to_the_dataclass_default_still_wins():
    config = parse_config(["--recipe", "full", "--max_length", "128", "--max_validation_pairs", "0"])
    assert config.max_length == 128
    assert config.max_validation_pairs == 0


def test_other_flags_parse_to_their_types():
    config = parse_config(
        ["--register", "false", "--sources", "emergent, arc", "--train_files", "a.csv", "b.jsonl", "--seed", "7"]
    )
    assert config.register is False
    assert config.source_list == ("emergent", "arc")
    assert config.train_files == ["a.csv", "b.jsonl"]
    assert config.seed == 7


def test_unknown_recipe_is_an_error_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_config(["--recipe", "turbo"])
    assert exit_info.value.code != 0
    error = capsys.readouterr().err
    assert "'turbo'" in error
    assert "default" in error and "full" in error


def test_unknown_flag_is_an_error_naming_it(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_config(["--no_such_flag", "1"])
    assert stopped.value.code == 2 and "unrecognized arguments: --no_such_flag 1" in capsys.readouterr().err


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_output_dir_defaults_to_the_recipe_folder_unless_given(recipe):
    assert parse_config(["--recipe", recipe]).output_dir == f"artifacts/{recipe}"
    assert parse_config(["--recipe", recipe, "--output_dir", "elsewhere"]).output_dir == "elsewhere"


@pytest.mark.parametrize(("flag", "has_bf16", "expected"), [("auto", True, True), ("auto", False, False),
                         ("true", False, True), ("False", True, False)])  # fmt: skip
def test_bf16_follows_the_cpu_unless_set(monkeypatch, flag, has_bf16, expected):
    import torch

    monkeypatch.setattr(training_config, "cpu_has_bf16", lambda: has_bf16)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert parse_config(["--bf16", flag]).use_bf16 is expected


def test_a_bad_bf16_value_names_the_flag():
    with pytest.raises(ValueError, match="--bf16 'maybe': use auto, true or false"):
        assert parse_config(["--bf16", "maybe"]).use_bf16


def test_the_labels_follow_relevance():
    from models.labels import LABELS, STANCES

    assert parse_config([]).labels == LABELS
    assert parse_config(["--relevance", "false"]).labels == STANCES


def test_a_former_flag_name_still_sets_its_flag():
    assert parse_config(["--max_aux_pairs", "12"]).max_fnc_arc_pairs == 12
