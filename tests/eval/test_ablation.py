import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import eval.ablation as ablation
from eval.ablation import AblationConfig, mean_spread, write
from eval.evaluate import READING_SYSTEMS
from models.document import DEFAULT_LONG_TEXT
from models.labels import STANCES, UNRELATED
from models.metrics import fnc_relative_score
from models.predictor import StancePredictor
from training.config import TrainConfig
from training.data import load_corpus

STEPS = {
    "Emergent only, three stances": ["--sources", "emergent", "--relevance", "false"],
    "+ unrelated pairs (default recipe)": [],
}
SEED = 7
# <step, lower-cased, non-alphanumerics as '_', outer '_' stripped, first 40 characters>_s<seed>
FOLDERS = {
    "Emergent only, three stances": "emergent_only__three_stances_s7",
    "+ unrelated pairs (default recipe)": "unrelated_pairs__default_recipe_s7",
}


# --- mean_spread and write ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.5, 0.7], "0.600 ± 0.141"), ([0.25], "0.250 ± 0.000"), ([0.1, 0.2, 0.6], "0.300 ± 0.265")],
)
def test_mean_spread(values, expected):
    assert mean_spread(values) == expected


def test_write_renders_markdown_and_json(tmp_path, capsys):
    results = {
        "Emergent only": {"emergent_test acc": [0.5, 0.7], "fnc1_test macro-F1": [0.2, 0.2]},
        "Everything": {"emergent_test acc": [0.8, 0.6], "fnc1_test macro-F1": [0.25, 0.75]},
    }
    config = AblationConfig(seeds=[1, 2], output_dir=str(tmp_path / "report"))
    write(results, config)
    assert json.loads((tmp_path / "report" / "ablation.json").read_text()) == {"seeds": [1, 2], "results": results}
    expected = [
        "Mean ± sample standard deviation over seeds 1, 2.",
        "",
        "| step | emergent_test acc | fnc1_test macro-F1 |",
        "|---|---|---|",
        "| Emergent only | 0.600 ± 0.141 | 0.200 ± 0.000 |",
        "| Everything | 0.700 ± 0.141 | 0.500 ± 0.354 |",
    ]
    assert (tmp_path / "report" / "ablation.md").read_text() == "\n".join(expected) + "\n"
    assert capsys.readouterr().out.splitlines() == expected


# --- run ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def step_models(saved_three_label_model_dir, saved_model_dir, tmp_path_factory) -> dict[str, Path]:
    """A saved model per step, in folders named as the ablation names them: three labels, then four."""
    models_dir = tmp_path_factory.mktemp("ablation-models")
    for step, source in zip(STEPS, (saved_three_label_model_dir, saved_model_dir), strict=True):
        shutil.copytree(source, models_dir / FOLDERS[step])
    return {step: models_dir / FOLDERS[step] for step in STEPS}


def expected_figures(model_dir: Path, corpus) -> dict[str, float]:
    """The figures of one model, computed here with sklearn rather than eval's own code."""
    predictor = StancePredictor.from_dir(model_dir, num_threads=1)

    def figures_of(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
        present = [label for label in (*STANCES, UNRELATED) if label in set(y_true)]
        f1 = f1_score(y_true, y_pred, labels=present, average=None, zero_division=0)
        row = {f"{name} acc": float(np.mean(y_true == y_pred)), f"{name} macro-F1": float(np.mean(f1))}
        return row | {f"{name} {label} F1": float(v) for label, v in zip(present, f1, strict=True)}

    figures = {}
    for name in ("emergent_test", "fnc1_test"):
        dataset = getattr(corpus, name)
        y_true = np.asarray(dataset["label"])
        y_pred = np.asarray(predictor.score(dataset["claim"], dataset["text"]).predicted_labels)
        figures |= figures_of(name, y_true, y_pred)
        if name == "fnc1_test":
            figures["fnc1_test relative score"] = fnc_relative_score(y_true, y_pred)
            related = y_true != UNRELATED
            figures |= figures_of("fnc1_test_related", y_true[related], y_pred[related])
    y_true = np.asarray(corpus.fnc1_test["label"])
    related = y_true != UNRELATED
    for strategy, system in READING_SYSTEMS.items():
        if strategy is not DEFAULT_LONG_TEXT:
            predictor.long_text = strategy
            scored = predictor.score(corpus.fnc1_test["claim"], corpus.fnc1_test["text"])
            y_pred = np.asarray(scored.predicted_labels)
            figures[f"fnc1_test_related macro-F1, {system.removeprefix('claimstance, ')}"] = figures_of(
                "x", y_true[related], y_pred[related]
            )["x macro-F1"]
    return figures


def never_train(config):
    raise AssertionError(f"train() called for {config.output_dir}, but a saved model was there")


def test_run_reuses_saved_models_instead_of_training(step_models, synthetic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", never_train)
    models_dir = next(iter(step_models.values())).parent
    config = AblationConfig(
        data_dir=str(synthetic_corpus.path), seeds=[SEED], models_dir=str(models_dir), output_dir=str(tmp_path)
    )
    results = ablation.run(config)

    corpus = load_corpus(synthetic_corpus.path)
    assert list(results) == list(STEPS)
    for step, model_dir in step_models.items():
        expected = expected_figures(model_dir, corpus)
        assert set(results[step]) == set(expected), step
        for column, value in expected.items():
            assert results[step][column] == [pytest.approx(value)], (step, column)
    # Each step read its own folder: the three-label model never calls a pair unrelated.
    first, second = (results[step] for step in STEPS)
    assert first["fnc1_test unrelated F1"] == [0.0] and first != second

    assert json.loads((tmp_path / "ablation.json").read_text()) == {"seeds": [SEED], "results": results}
    lines = (tmp_path / "ablation.md").read_text().splitlines()
    assert lines[0] == f"Mean ± sample standard deviation over seeds {SEED}."
    columns = list(dict.fromkeys(c for figures in results.values() for c in figures))
    assert lines[2] == "| step | " + " | ".join(columns) + " |"
    assert len(lines) == 4 + len(STEPS)
    for line, (step, figures) in zip(lines[4:], results.items(), strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells == [step] + [f"{figures[c][0]:.3f} ± 0.000" if c in figures else "–" for c in columns]


def test_run_trains_only_the_missing_models(step_models, saved_model_dir, synthetic_corpus, tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    second = "+ unrelated pairs (default recipe)"
    shutil.copytree(step_models[second], models_dir / FOLDERS[second])
    trained: list[TrainConfig] = []

    def fake_train(config: TrainConfig) -> Path:
        trained.append(config)
        return Path(shutil.copytree(saved_model_dir, config.output_dir))

    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", fake_train)
    config = AblationConfig(
        data_dir=str(synthetic_corpus.path),
        seeds=[SEED],
        models_dir=str(models_dir),
        output_dir=str(tmp_path / "report"),
    )
    results = ablation.run(config)

    assert len(trained) == 1
    (train_config,) = trained
    first = "Emergent only, three stances"
    assert train_config.output_dir == str(models_dir / FOLDERS[first])
    assert train_config.source_list == ("emergent",)
    assert train_config.relevance is False
    assert train_config.seed == SEED
    assert train_config.data_dir == str(synthetic_corpus.path)
    assert train_config.register is False
    assert (models_dir / FOLDERS[first] / "model.safetensors").is_file()
    assert set(results) == set(STEPS)
    assert (tmp_path / "report" / "ablation.md").is_file()


def test_write_leaves_a_dash_where_a_step_lacks_a_column(tmp_path, capsys):
    results = {"three": {"a": [0.5]}, "four": {"a": [0.25], "b": [1.0]}}
    write(results, AblationConfig(seeds=[1], output_dir=str(tmp_path)))
    lines = (tmp_path / "ablation.md").read_text().splitlines()
    assert lines[2] == "| step | a | b |"
    assert lines[4] == "| three | 0.500 ± 0.000 | – |"
