import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import eval.ablation as ablation
from eval.ablation import (
    BASE_STEP,
    DECISION_RULE_ROW,
    ENSEMBLE_ROW,
    SCORES_FILE,
    VALIDATION_COLUMN,
    AblationConfig,
    KeptRow,
    ModelScores,
    Step,
    kept_rows,
    mean_spread,
    write,
)
from eval.decision_rule import fit_stance_offsets, with_stance_offsets
from eval.evaluate import STRATEGY_SYSTEMS
from models.document import DEFAULT_LONG_TEXT
from models.labels import STANCES, UNRELATED
from models.metrics import fnc_relative_score
from models.pair import Pair
from models.predictor import StancePredictor
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.claim_evidence import read_claim_evidence, read_fever_symmetric
from training.config import TrainConfig
from training.data import load_corpus
from training.negation import negate
from training.splits import claim_evidence_splits, model_splits, saved_config

STEPS = (
    Step("Emergent only, three stances", "emergent_only", ("--sources", "emergent", "--relevance", "false")),
    Step("+ unrelated pairs (default recipe)", BASE_STEP),
)
SEEDS = [7, 8]


# --- mean_spread and write ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.5, 0.7], "0.600 ± 0.141"), ([0.25], "0.250"), ([0.1, 0.2, 0.6], "0.300 ± 0.265")],
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


# --- run ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def step_models(saved_three_label_model_dir, saved_model_dir, tmp_path_factory) -> dict[str, Path]:
    """Each step's model under both seeds (the same model twice), in folders named as the ablation names them."""
    models_dir = tmp_path_factory.mktemp("ablation-models")
    for step, source in zip(STEPS, (saved_three_label_model_dir, saved_model_dir), strict=True):
        for seed in SEEDS:
            shutil.copytree(source, models_dir / f"{step.slug}_s{seed}")
    return {step.name: models_dir / f"{step.slug}_s{SEEDS[0]}" for step in STEPS}


def f1_figures(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    present = [label for label in (*STANCES, UNRELATED) if label in set(y_true)]
    f1 = f1_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    row = {f"{name} acc": float(np.mean(y_true == y_pred)), f"{name} macro-F1": float(np.mean(f1))}
    return row | {f"{name} {label} F1": float(v) for label, v in zip(present, f1, strict=True)}


def expected_figures(model_dir: Path, corpus, data_dir: Path) -> dict[str, float]:
    """The figures of one model, computed here with sklearn rather than eval's own code."""
    predictor = StancePredictor.from_dir(model_dir, num_threads=1)
    _, validation = model_splits(model_dir, str(data_dir))
    y_true = np.asarray(validation["label"])
    y_pred = np.asarray(predictor.score(validation["claim"], validation["text"]).predicted_labels)
    sources = np.asarray(validation["source"])
    news = ~np.isin(sources, CLAIM_EVIDENCE_SOURCES)  # what choices are made on; the corpora are reported beside
    per_source = [
        f1_figures("v", y_true[sources == s], y_pred[sources == s])["v macro-F1"] for s in sorted(set(sources[news]))
    ]
    figures = {"validation macro-F1": float(np.mean(per_source))}
    figures["validation disputing F1"] = f1_figures("v", y_true[news], y_pred[news])["v disputing F1"]
    trained = saved_config(model_dir, str(data_dir))
    _, [claim_evidence_validation] = claim_evidence_splits(trained, CLAIM_EVIDENCE_SOURCES)
    figures["claim–evidence validation 2-way acc"] = float(
        np.mean(list(two_way_by_source(predictor, claim_evidence_validation.to_pandas()).values()))
    )
    _, claim_evidence_test = read_claim_evidence(data_dir, CLAIM_EVIDENCE_SOURCES)
    figures |= {f"{s}_test 2-way acc": v for s, v in two_way_by_source(predictor, claim_evidence_test).items()}
    for name in ("emergent_test", "fnc1_test"):
        dataset = getattr(corpus, name)
        y_true = np.asarray(dataset["label"])
        y_pred = np.asarray(predictor.score(dataset["claim"], dataset["text"]).predicted_labels)
        figures |= f1_figures(name, y_true, y_pred)
        if name == "fnc1_test":
            figures["fnc1_test relative score"] = fnc_relative_score(y_true, y_pred)
            related = y_true != UNRELATED
            figures |= f1_figures("fnc1_test_related", y_true[related], y_pred[related])
    figures |= polarity_figures(predictor, validation, data_dir)
    y_true = np.asarray(corpus.fnc1_test["label"])
    related = y_true != UNRELATED
    for strategy, system in STRATEGY_SYSTEMS.items():
        if strategy is not DEFAULT_LONG_TEXT:
            predictor.long_text = strategy
            scored = predictor.score(corpus.fnc1_test["claim"], corpus.fnc1_test["text"])
            y_pred = np.asarray(scored.predicted_labels)
            figures[f"fnc1_test_related macro-F1, {system.removeprefix('claimstance, ')}"] = f1_figures(
                "x", y_true[related], y_pred[related]
            )["x macro-F1"]
    return figures


def polarity_figures(predictor: StancePredictor, validation, data_dir: Path) -> dict[str, float]:
    """The probe's columns from the news validation pairs and their claims negated here, and FEVER Symmetric's."""
    news = [i for i, source in enumerate(validation["source"]) if source not in CLAIM_EVIDENCE_SOURCES]
    rows = [(validation[i]["claim"], validation[i]["text"], validation[i]["label"]) for i in news]
    rows = [(claim, negate(claim), text, label) for claim, text, label in rows if negate(claim) is not None]
    swap = {"asserting": "disputing", "disputing": "asserting"}
    original = [r.label for r in predictor.predict([Pair(c, t) for c, _, t, _ in rows])]
    negated = [r.label for r in predictor.predict([Pair(n.claim, t) for _, n, t, _ in rows])]
    truth = [label for *_, label in rows]
    sided = [i for i, label in enumerate(truth) if label in swap]
    flips = [original[i] in swap and negated[i] == swap[original[i]] for i in sided]
    accuracy = np.mean([o == t for o, t in zip(original, truth, strict=True)])
    negated_accuracy = np.mean([n == swap.get(t, t) for n, t in zip(negated, truth, strict=True)])
    twins = read_fever_symmetric(data_dir)
    return {
        "probe: sided answers that flip": float(np.mean(flips)) if sided else float("nan"),
        "probe: accuracy lost on negated claims": float(accuracy - negated_accuracy),
        "FEVER Symmetric 2-way acc": two_way_by_source(predictor, twins)["fever_symmetric"],
    }


def two_way_by_source(predictor: StancePredictor, pairs) -> dict[str, float]:
    """Asserting against disputing by their two probabilities alone, per source."""
    figures = {}
    for source, rows in pairs.groupby("source"):
        results = predictor.predict([Pair(claim, text) for claim, text in zip(rows.claim, rows.text, strict=True)])
        guess = ["asserting" if r.scores["asserting"] >= r.scores["disputing"] else "disputing" for r in results]
        figures[source] = float(np.mean(np.asarray(guess) == rows.label.to_numpy()))
    return figures


def never_train(config):
    raise AssertionError(f"train() called for {config.output_dir}, but a saved model was there")


def ablation_config(data_dir: Path, models_dir: Path, output_dir: Path, **kwargs) -> AblationConfig:
    return AblationConfig(
        data_dir=str(data_dir),
        seeds=SEEDS,
        steps=[step.slug for step in STEPS],
        models_dir=str(models_dir),
        output_dir=str(output_dir),
        **kwargs,
    )


@pytest.mark.e2e
def test_run_reuses_saved_models_and_scores_each_step_and_lever(step_models, synthetic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", never_train)
    models_dir = next(iter(step_models.values())).parent
    results = ablation.run(ablation_config(synthetic_corpus.path, models_dir, tmp_path))

    corpus = load_corpus(synthetic_corpus.path)
    assert list(results) == [step.name for step in STEPS] + [DECISION_RULE_ROW, ENSEMBLE_ROW]
    for step, model_dir in step_models.items():
        expected = expected_figures(model_dir, corpus, synthetic_corpus.path)
        assert set(results[step]) == set(expected), step
        for column, value in expected.items():
            assert results[step][column] == [pytest.approx(value)] * len(SEEDS), (step, column)
    # Each step read its own folders: the three-label model never calls a pair unrelated.
    first, second = (results[step.name] for step in STEPS)
    assert first["fnc1_test unrelated F1"] == [0.0, 0.0] and first != second

    # The ensemble of one model twice is that model; it has no validation figure (each seed held out other claims).
    ensemble = results[ENSEMBLE_ROW]
    assert VALIDATION_COLUMN not in ensemble
    assert ensemble == {c: [pytest.approx(v[0])] for c, v in second.items() if c in ensemble}
    own = ("validation", "2-way", "probe")  # figures of a model's own validation claims, and the claim–evidence sets
    assert set(ensemble) == {c for c in second if "," not in c and not any(word in c for word in own)}

    # The decision rule's test figures follow the offsets it fitted on the model's validation split.
    _, validation = model_splits(step_models[STEPS[1].name], str(synthetic_corpus.path))
    scores = ModelScores.load(step_models[STEPS[1].name] / SCORES_FILE)
    offsets = fit_stance_offsets(validation["label"], scores.scored("validation"), validation["source"])
    shifted = with_stance_offsets(scores.scored("fnc1_test"), offsets).predicted_labels
    truth = np.asarray(corpus.fnc1_test["label"])
    assert results[DECISION_RULE_ROW]["fnc1_test acc"] == [pytest.approx(np.mean(truth == shifted))] * len(SEEDS)
    assert len(results[DECISION_RULE_ROW][VALIDATION_COLUMN]) == len(SEEDS)

    saved = json.loads((tmp_path / "ablation.json").read_text())
    assert (saved["seeds"], saved["results"]) == (SEEDS, results)
    for row_name in (STEPS[0].name, STEPS[1].name, DECISION_RULE_ROW):  # each seed's figures, kept by seed
        assert [saved["by_seed"][row_name][str(seed)] for seed in SEEDS] == [
            {column: values[i] for column, values in results[row_name].items()} for i in range(len(SEEDS))
        ]
    lines = (tmp_path / "ablation.md").read_text().splitlines()
    assert lines[0] == f"Mean ± sample standard deviation over seeds {', '.join(map(str, SEEDS))}."
    columns = list(dict.fromkeys(c for figures in results.values() for c in figures))
    assert lines[2] == "| step | " + " | ".join(columns) + " |"
    assert len(lines) == 4 + len(results)
    for line, (step, figures) in zip(lines[4:], results.items(), strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells == [step] + [mean_spread(figures[c]) if c in figures else "–" for c in columns]


@pytest.mark.e2e
def test_run_resumes_from_the_scores_kept_beside_each_model(step_models, synthetic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", never_train)
    models_dir = tmp_path / "models"
    shutil.copytree(next(iter(step_models.values())).parent, models_dir)
    first = ablation.run(ablation_config(synthetic_corpus.path, models_dir, tmp_path / "first"))
    assert all((models_dir / f"{step.slug}_s{seed}" / SCORES_FILE).is_file() for step in STEPS for seed in SEEDS)

    def never_score(*args, **kwargs):
        raise AssertionError("scored again, though its scores were kept")

    monkeypatch.setattr(ablation, "score_model", never_score)
    assert ablation.run(ablation_config(synthetic_corpus.path, models_dir, tmp_path / "second")) == first


@pytest.mark.e2e
def test_run_trains_only_the_missing_models(step_models, saved_model_dir, synthetic_corpus, tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    for seed in SEEDS:
        shutil.copytree(saved_model_dir, models_dir / f"{STEPS[1].slug}_s{seed}")
    trained: list[TrainConfig] = []

    def fake_train(config: TrainConfig) -> Path:
        trained.append(config)
        return Path(shutil.copytree(saved_model_dir, config.output_dir))

    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", fake_train)
    results = ablation.run(
        ablation_config(synthetic_corpus.path, models_dir, tmp_path / "report", long_text_strategies=False)
    )

    assert [config.output_dir for config in trained] == [str(models_dir / f"emergent_only_s{s}") for s in SEEDS]
    for config, seed in zip(trained, SEEDS, strict=True):
        assert config.source_list == ("emergent",)
        assert config.relevance is False
        assert config.seed == seed
        assert config.data_dir == str(synthetic_corpus.path)
        assert config.register is False and config.export_onnx is False
    assert set(results) == {step.name for step in STEPS} | {DECISION_RULE_ROW, ENSEMBLE_ROW}
    assert not any("," in column for figures in results.values() for column in figures)  # no other strategies asked for
    assert (tmp_path / "report" / "ablation.md").is_file()


def test_kept_rows_reads_each_seed_of_earlier_reports_and_the_later_report_wins(tmp_path):
    results = {
        "window": {"acc": [0.5, 0.7], "F1": [0.1, 0.2]},
        ENSEMBLE_ROW: {"acc": [0.9]},
        DECISION_RULE_ROW: {"acc": [0.3, 0.4]},
    }
    write(results, AblationConfig(seeds=[42, 43], output_dir=str(tmp_path / "first")))
    write({"window": {"acc": [0.8]}}, AblationConfig(seeds=[43], output_dir=str(tmp_path / "second")))

    rows = kept_rows([str(tmp_path / "first"), str(tmp_path / "second")])
    assert rows == {
        ("window", 42): KeptRow({"acc": 0.5, "F1": 0.1}, str(tmp_path / "first")),
        ("window", 43): KeptRow({"acc": 0.8}, str(tmp_path / "second")),
        (DECISION_RULE_ROW, 42): KeptRow({"acc": 0.3}, str(tmp_path / "first")),
        (DECISION_RULE_ROW, 43): KeptRow({"acc": 0.4}, str(tmp_path / "first")),
    }
    assert kept_rows([]) == {}


def test_kept_rows_refuses_a_folder_without_a_report(tmp_path):
    (tmp_path / "ablation.json").write_text('{"seeds": [1]}')
    with pytest.raises(SystemExit, match=r"--kept_reports: .*ablation.json is not an ablation report"):
        kept_rows([str(tmp_path)])
    with pytest.raises(SystemExit, match="--kept_reports: .*missing.*ablation.json"):
        kept_rows([str(tmp_path / "missing")])


@pytest.mark.e2e
def test_run_takes_a_gone_models_row_from_a_kept_report(step_models, synthetic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", never_train)
    models_dir = tmp_path / "models"
    shutil.copytree(next(iter(step_models.values())).parent, models_dir)
    shutil.rmtree(models_dir / f"{STEPS[0].slug}_s{SEEDS[1]}")
    earlier = {STEPS[0].name: {"emergent_test acc": [0.25, 0.125]}, STEPS[1].name: {"emergent_test acc": [0.0, 0.0]}}
    write(earlier, AblationConfig(seeds=SEEDS, output_dir=str(tmp_path / "earlier")))

    config = ablation_config(synthetic_corpus.path, models_dir, tmp_path / "report", long_text_strategies=False)
    config.kept_reports = [str(tmp_path / "earlier")]
    results = ablation.run(config)

    first, second = results[STEPS[0].name], results[STEPS[1].name]
    assert first["emergent_test acc"][1] == 0.125  # the gone model's row, as the earlier report had it
    assert first["emergent_test acc"][0] == pytest.approx(second["emergent_test acc"][0])  # the model here wins
    assert len(first["emergent_test acc"]) == len(SEEDS) and 0.0 not in second["emergent_test acc"]
    lines = (tmp_path / "report" / "ablation.md").read_text().splitlines()
    assert lines[-1] == f"- {STEPS[0].name}, seed {SEEDS[1]}: kept from {tmp_path / 'earlier'}"


def test_run_refuses_an_unknown_step(synthetic_corpus, tmp_path):
    config = AblationConfig(
        data_dir=str(synthetic_corpus.path), steps=["news_only", "nonsense"], output_dir=str(tmp_path)
    )
    with pytest.raises(SystemExit, match="--steps: unknown nonsense"):
        ablation.run(config)


def test_write_leaves_a_dash_where_a_step_lacks_a_column(tmp_path, capsys):
    results = {"three": {"a": [0.5]}, "four": {"a": [0.25], "b": [1.0]}}
    write(results, AblationConfig(seeds=[1], output_dir=str(tmp_path)))
    lines = (tmp_path / "ablation.md").read_text().splitlines()
    assert lines[2] == "| step | a | b |"
    assert lines[4] == "| three | 0.500 | – |"


@pytest.mark.e2e
def test_without_training_a_missing_model_is_left_out_and_said(step_models, synthetic_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ablation, "STEPS", STEPS)
    monkeypatch.setattr(ablation, "train", never_train)
    models_dir = tmp_path / "models"
    shutil.copytree(next(iter(step_models.values())).parent, models_dir)
    shutil.rmtree(models_dir / f"{STEPS[0].slug}_s{SEEDS[1]}")
    config = ablation_config(
        synthetic_corpus.path, models_dir, tmp_path / "report", long_text_strategies=False, train=False
    )
    results = ablation.run(config)
    assert (
        len(results[STEPS[0].name]["emergent_test acc"]) == 1 and len(results[STEPS[1].name]["emergent_test acc"]) == 2
    )
    lines = (tmp_path / "report" / "ablation.md").read_text().splitlines()
    assert lines[-1] == f"- {STEPS[0].name}, seed {SEEDS[1]}: not run (no model, no earlier report)"


def test_kept_rows_read_by_seed_where_a_report_has_it(tmp_path):
    results = {"window": {"acc": [0.5]}}
    write(results, AblationConfig(seeds=[42, 43], output_dir=str(tmp_path)), by_seed={"window": {43: {"acc": 0.5}}})
    assert kept_rows([str(tmp_path)]) == {("window", 43): KeptRow({"acc": 0.5}, str(tmp_path))}
