import json
import re
from pathlib import Path

import numpy as np
import pytest

from eval.baselines import PUBLISHED_EMERGENT
from eval.evaluate import MODEL_SYSTEM, TRUNCATION_SYSTEM, EvalConfig, results_table, run
from models.encoding import LongTextStrategy
from models.labels import LABELS
from models.predictor import StancePredictor
from models.registry import find, register, resolve
from training.data import load_corpus, split_by_group

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEST_SETS = ("emergent_test", "fnc1_test")
PUBLISHED_SYSTEM = PUBLISHED_EMERGENT.system + " [published]"
TFIDF_SYSTEM = re.compile(r"TF-IDF \+ LR, (?P<data>.+) \(C=(?P<c>[0-9.]+)\)")


def run_into(output_dir: Path, model: Path | str, data_dir: Path, **overrides) -> tuple[dict, Path]:
    config = EvalConfig(model=str(model), data_dir=str(data_dir), output_dir=str(output_dir), **overrides)
    return run(config), output_dir


@pytest.fixture(scope="module")
def test_run(saved_model_dir, synthetic_corpus, tmp_path_factory):
    figures, out = run_into(tmp_path_factory.mktemp("eval-test") / "report", saved_model_dir, synthetic_corpus.path)
    return {"figures": figures, "out": out, "report": json.loads((out / "report.json").read_text())}


@pytest.fixture(scope="module")
def validation_run(saved_model_dir, synthetic_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-validation") / "report"
    figures, out = run_into(out, saved_model_dir, synthetic_corpus.path, split="validation")
    return {"figures": figures, "out": out, "report": json.loads((out / "report.json").read_text())}


@pytest.fixture(scope="module")
def corpus(synthetic_corpus):
    return load_corpus(synthetic_corpus.path)


def confusion_of(y_true, y_pred) -> list[list[int]]:
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return confusion.tolist()


def predicted(model_dir: Path, dataset, long_text=LongTextStrategy.PASSAGES) -> np.ndarray:
    predictor = StancePredictor.from_dir(model_dir, num_threads=1, long_text=long_text)
    return predictor.probabilities(dataset["claim"], dataset["text"]).argmax(axis=1)


# --- the test split -----------------------------------------------------------------------------


def test_run_writes_the_report_files(test_run):
    out = test_run["out"]
    assert (out / "report.json").is_file()
    assert (out / "results.md").is_file()
    for name in TEST_SETS:
        assert (out / f"{name}_confusion.txt").read_text().strip()
        for plot in (f"{name}_confusion.png", f"{name}_reliability.png"):
            data = (out / plot).read_bytes()
            assert data.startswith(PNG_MAGIC), plot
    written = {p.name for p in out.iterdir()}
    assert written == {"report.json", "results.md"} | {
        f"{name}_{kind}" for name in TEST_SETS for kind in ("confusion.txt", "confusion.png", "reliability.png")
    }


def test_report_json_has_every_system(test_run, saved_model_dir):
    report = test_run["report"]
    assert report["model"] == str(saved_model_dir)
    results = report["results"]
    assert results == json.loads(json.dumps(test_run["figures"]))  # run returns what it wrote
    tfidf = [system for system in results if TFIDF_SYSTEM.fullmatch(system)]
    assert sorted(TFIDF_SYSTEM.fullmatch(t)["data"] for t in tfidf) == [
        "Emergent training data only",
        "the model's training data",
    ]
    assert all(float(TFIDF_SYSTEM.fullmatch(t)["c"]) in (0.3, 1.0, 3.0, 10.0) for t in tfidf)
    assert set(results) == {MODEL_SYSTEM, TRUNCATION_SYSTEM, "majority class", *tfidf, PUBLISHED_SYSTEM}
    assert set(results[MODEL_SYSTEM]) == set(TEST_SETS)
    assert set(results[TRUNCATION_SYSTEM]) == {"fnc1_test"}
    assert set(results["majority class"]) == set(TEST_SETS)
    assert all(set(results[t]) == set(TEST_SETS) for t in tfidf)
    assert results[PUBLISHED_SYSTEM] == {"emergent_test": {"accuracy": 0.7328, "macro_f1": 0.723}}


def test_model_figures_match_the_models_own_predictions(test_run, saved_model_dir, corpus):
    results = test_run["report"]["results"]
    for name in TEST_SETS:
        dataset = getattr(corpus, name)
        y_true = np.asarray(dataset["label"])
        y_pred = predicted(saved_model_dir, dataset)
        figures = results[MODEL_SYSTEM][name]
        assert figures["confusion"] == confusion_of(y_true, y_pred), name
        assert figures["accuracy"] == pytest.approx(np.mean(y_true == y_pred)), name
        assert sum(map(sum, figures["confusion"])) == len(dataset)
        assert figures["ece"] is not None and figures["calibration"] is not None
    truncated = predicted(saved_model_dir, corpus.fnc1_test, LongTextStrategy.TRUNCATE)
    assert results[TRUNCATION_SYSTEM]["fnc1_test"]["confusion"] == confusion_of(corpus.fnc1_test["label"], truncated)


def test_majority_row_predicts_the_training_majority(test_run, corpus):
    config = EvalConfig()
    train, _ = split_by_group(corpus.train_pool, config.validation_fraction, config.seed)
    majority = int(np.bincount(train["label"]).argmax())
    for name in TEST_SETS:
        y_true = np.asarray(getattr(corpus, name)["label"])
        figures = test_run["report"]["results"]["majority class"][name]
        assert figures["accuracy"] == pytest.approx(np.mean(y_true == majority)), name
        # Every prediction falls in the majority column.
        assert all(n == 0 for row in figures["confusion"] for j, n in enumerate(row) if j != majority)
        assert "ece" not in figures or figures["ece"] is None


def test_confusion_text_files_hold_the_reported_counts(test_run):
    results = test_run["report"]["results"][MODEL_SYSTEM]
    for name in TEST_SETS:
        lines = (test_run["out"] / f"{name}_confusion.txt").read_text().splitlines()
        rows = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[1:4]}
        assert rows == dict(zip(LABELS, results[name]["confusion"], strict=True))
        summary = f"accuracy {results[name]['accuracy']:.4f}   macro-F1 {results[name]['macro_f1']:.4f}"
        assert summary in lines


def test_results_md_has_one_row_per_system(test_run):
    lines = (test_run["out"] / "results.md").read_text().splitlines()
    systems = list(test_run["report"]["results"])
    assert len(lines) == 2 + len(systems)
    assert lines[0] == (
        "| system | emergent_test acc | emergent_test macro-F1 | emergent_test disputing F1 "
        "| fnc1_test acc | fnc1_test macro-F1 | fnc1_test disputing F1 |"
    )
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:]}
    assert list(rows) == systems
    published = [cell.strip() for cell in rows[PUBLISHED_SYSTEM].strip("|").split("|")][1:]
    assert published == ["73.28%", "0.723", "–", "–", "–", "–"]
    truncation = [cell.strip() for cell in rows[TRUNCATION_SYSTEM].strip("|").split("|")][1:]
    assert truncation[:3] == ["–", "–", "–"]
    assert "–" not in truncation[3:]


def test_results_table_renders_markdown_with_dashes_for_missing_cells():
    figures = {
        "model": {
            "a_test": {"accuracy": 0.5, "macro_f1": 0.4, "per_class": {"disputing": {"f1": 0.25}}},
            "b_test": {"accuracy": 0.125, "macro_f1": 0.1, "per_class": {"asserting": {"f1": 0.5}}},
        },
        "published": {"a_test": {"accuracy": 0.7328, "macro_f1": 0.723}},
    }
    assert results_table(figures).splitlines() == [
        "| system | a_test acc | a_test macro-F1 | a_test disputing F1 "
        "| b_test acc | b_test macro-F1 | b_test disputing F1 |",
        "|---|---|---|---|---|---|---|",
        "| model | 50.00% | 0.400 | 0.250 | 12.50% | 0.100 | – |",
        "| published | 73.28% | 0.723 | – | – | – | – |",
    ]


# --- the validation split -----------------------------------------------------------------------


def test_validation_split_scores_each_sources_validation_claims(validation_run, corpus):
    results = validation_run["report"]["results"]
    names = {"arc_validation", "emergent_validation", "fnc1_validation"}
    assert set(results) == {MODEL_SYSTEM, TRUNCATION_SYSTEM}  # no baselines, no published figures
    assert set(results[MODEL_SYSTEM]) == names
    assert set(results[TRUNCATION_SYSTEM]) == names - {"emergent_validation"}
    config = EvalConfig()
    _, validation = split_by_group(corpus.train_pool, config.validation_fraction, config.seed)
    for name in names:
        source = name.removesuffix("_validation")
        expected = sum(s == source for s in validation["source"])
        assert expected > 0
        assert sum(map(sum, results[MODEL_SYSTEM][name]["confusion"])) == expected, name


def test_validation_split_writes_files_per_source(validation_run):
    out = validation_run["out"]
    for name in ("arc_validation", "emergent_validation", "fnc1_validation"):
        assert (out / f"{name}_confusion.txt").is_file()
        assert (out / f"{name}_confusion.png").read_bytes().startswith(PNG_MAGIC)
        assert (out / f"{name}_reliability.png").read_bytes().startswith(PNG_MAGIC)
    assert not list(out.glob("*_test_*"))
    lines = (out / "results.md").read_text().splitlines()
    assert len(lines) == 2 + 2


def test_unknown_split_exits_with_a_message(saved_model_dir, synthetic_corpus, tmp_path):
    with pytest.raises(SystemExit, match="--split must be one of test, validation, not 'dev'"):
        run_into(tmp_path / "report", saved_model_dir, synthetic_corpus.path, split="dev")
    assert not (tmp_path / "report").exists()


# --- finding the model --------------------------------------------------------------------------


def test_default_model_is_the_latest_in_the_store(bento_store, saved_model_dir):
    register(saved_model_dir)
    latest = register(saved_model_dir)
    assert resolve(EvalConfig().model) == find(latest)[0]


def test_run_with_a_store_tag_and_no_baselines(bento_store, saved_model_dir, synthetic_corpus, tmp_path):
    tag = register(saved_model_dir)
    figures, out = run_into(tmp_path / "report", tag, synthetic_corpus.path, baselines=False)
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == str(find(tag)[0])
    assert set(figures) == {MODEL_SYSTEM, TRUNCATION_SYSTEM}
    assert set(figures[MODEL_SYSTEM]) == set(TEST_SETS)
