import json
import re
from pathlib import Path

import numpy as np
import pytest

from eval.baselines import PUBLISHED_EMERGENT
from eval.evaluate import (
    MODEL_SYSTEM,
    STRATEGY_SYSTEMS,
    EvalConfig,
    evaluation_sets,
    run,
    with_split_flags,
)
from models.document import DEFAULT_LONG_TEXT
from models.labels import LABELS, STANCES, UNRELATED
from models.metrics import fnc_relative_score
from models.predictor import StancePredictor
from models.registry import find, register, resolve
from models.sentences import sentence_spans
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.config import TrainConfig
from training.data import load_corpus
from training.splits import claim_evidence_splits, model_splits, saved_config

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLAIM_EVIDENCE_TEST_SETS = tuple(f"{source}_test" for source in sorted(CLAIM_EVIDENCE_SOURCES))
TEST_SETS = ("emergent_test", "emergent_test_mismatched", "fnc1_test", *CLAIM_EVIDENCE_TEST_SETS, "fever_symmetric_dev")
WITH_UNRELATED = ("emergent_test_mismatched", "fnc1_test")
PUBLISHED_SYSTEM = PUBLISHED_EMERGENT.system + " [published]"
TWO_STAGE = re.compile(r"TF-IDF cosine relatedness \(>= [0-9.-]+\) \+ TF-IDF \+ LR stance \(C=[0-9.]+\)")
OTHER_STRATEGIES = {system for strategy, system in STRATEGY_SYSTEMS.items() if strategy is not DEFAULT_LONG_TEXT}
"""The model reading long texts in each way but its default, on the sets of long texts."""
ANOTHER_STRATEGY = next(strategy for strategy in STRATEGY_SYSTEMS if strategy is not DEFAULT_LONG_TEXT)
ANOTHER_SYSTEM = STRATEGY_SYSTEMS[ANOTHER_STRATEGY]
EMERGENT_TFIDF = re.compile(r"TF-IDF \+ LR, Emergent training data only \(C=[0-9.]+\)")


def run_into(output_dir: Path, model: Path | str, data_dir: Path, **overrides) -> tuple[dict, Path]:
    config = EvalConfig(model=str(model), data_dir=str(data_dir), output_dir=str(output_dir), **overrides)
    return run(config), output_dir


@pytest.fixture(scope="module")
def test_run(saved_model_dir, synthetic_corpus, tmp_path_factory):
    report, out = run_into(tmp_path_factory.mktemp("eval-test") / "report", saved_model_dir, synthetic_corpus.path)
    return {"returned": report, "out": out, "report": json.loads((out / "report.json").read_text())}


@pytest.fixture(scope="module")
def validation_run(saved_model_dir, synthetic_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-validation") / "report"
    report, out = run_into(
        out, saved_model_dir, synthetic_corpus.path, split="validation", relevance_sample=20, validation_fraction=0.34
    )
    return {"returned": report, "out": out, "report": json.loads((out / "report.json").read_text())}


@pytest.fixture(scope="module")
def test_sets(synthetic_corpus):
    return evaluation_sets(
        load_corpus(synthetic_corpus.path), EvalConfig(), TrainConfig(data_dir=str(synthetic_corpus.path))
    )


def predicted(model_dir: Path, dataset, long_text=DEFAULT_LONG_TEXT) -> list[str]:
    predictor = StancePredictor.from_dir(model_dir, num_threads=1, long_text=long_text)
    return predictor.score(dataset["claim"], dataset["text"]).predicted_labels


def confusion_of(y_true, y_pred, labels) -> list[list[int]]:
    return [[sum(t == a and p == b for t, p in zip(y_true, y_pred, strict=True)) for b in labels] for a in labels]


# --- the test split -----------------------------------------------------------------------------


def test_the_test_sets(test_sets, synthetic_corpus):
    assert list(test_sets) == list(TEST_SETS)
    assert set(test_sets["emergent_test_mismatched"]["label"]) == {UNRELATED}
    assert set(test_sets["emergent_test_mismatched"]["group"]) == synthetic_corpus.test_claim_ids
    assert UNRELATED in test_sets["fnc1_test"]["label"] and UNRELATED not in test_sets["emergent_test"]["label"]


@pytest.mark.e2e
def test_run_writes_the_report_files(test_run):
    out = test_run["out"]
    expected = {"report.json", "results.md"}
    expected |= {
        f"{name}_{kind}" for name in TEST_SETS for kind in ("confusion.txt", "confusion.png", "reliability.png")
    }
    expected |= {f"{name}_relevance_reliability.png" for name in WITH_UNRELATED}
    assert {p.name for p in out.iterdir()} == expected
    for name in expected - {"report.json", "results.md"}:
        if name.endswith(".png"):
            assert (out / name).read_bytes().startswith(PNG_MAGIC), name
        else:
            assert (out / name).read_text().strip(), name


@pytest.mark.e2e
@pytest.mark.e2e
def test_the_report_has_the_polarity_probe_and_the_worked_examples(test_run):
    report = test_run["report"]
    probe = report["polarity"]["claimstance"]
    assert probe["pairs"] > 0 and probe["claims"] >= probe["left_out"] >= 0
    assert 0.0 <= probe["accuracy"] <= 1.0 and 0.0 <= probe["negated_accuracy"] <= 1.0
    assert set(probe["by_source"]) <= {"emergent", "fnc1", "arc"}
    examples = report["worked_examples"]["claimstance"]
    assert [e["expected"] for e in examples] == ["disputing", "not disputing", "disputing"]
    assert all(e["holds"] == ((e["answer"] == "disputing") == e["is_label"]) for e in examples)
    markdown = (test_run["out"] / "results.md").read_text()
    assert "### Polarity" in markdown and "### Worked examples" in markdown
    assert "fever_symmetric_dev" in report["results"]["claimstance"]


def test_report_json_has_every_system_and_the_models_labels(test_run, saved_model_dir):
    report = test_run["report"]
    assert report == json.loads(json.dumps(test_run["returned"]))  # run returns what it wrote
    assert report["model"] == str(saved_model_dir)
    assert report["labels"] == list(LABELS)
    results = report["results"]
    two_stage = [s for s in results if TWO_STAGE.fullmatch(s)]
    emergent_tfidf = [s for s in results if EMERGENT_TFIDF.fullmatch(s)]
    assert len(two_stage) == len(emergent_tfidf) == 1
    assert set(results) == {MODEL_SYSTEM, *OTHER_STRATEGIES, "majority class", *two_stage, *emergent_tfidf,
                            PUBLISHED_SYSTEM}  # fmt: skip
    with_related = {*TEST_SETS, "fnc1_test_related"}
    assert set(results[MODEL_SYSTEM]) == set(results["majority class"]) == set(results[two_stage[0]]) == with_related
    assert all(set(results[system]) == {"fnc1_test", "fnc1_test_related"} for system in OTHER_STRATEGIES)
    assert report["long_text"] == DEFAULT_LONG_TEXT
    assert results[PUBLISHED_SYSTEM] == {"emergent_test": {"accuracy": 0.7328, "macro_f1": 0.723}}
    assert report["published_fnc1_competition_test"]["Talos (1st in FNC-1)"] == "82.02"


@pytest.mark.e2e
def test_model_figures_match_the_models_own_predictions(test_run, saved_model_dir, test_sets):
    results = test_run["report"]["results"]
    for name in TEST_SETS:
        dataset = test_sets[name]
        y_true, y_pred = dataset["label"], predicted(saved_model_dir, dataset)
        figures = results[MODEL_SYSTEM][name]
        assert figures["labels"] == list(LABELS)
        assert figures["confusion"] == confusion_of(y_true, y_pred, LABELS), name
        assert figures["accuracy"] == pytest.approx(np.mean(np.asarray(y_true) == np.asarray(y_pred))), name
        assert figures["ece"] is not None and figures["calibration"] is not None
        assert ("relevance_ece" in figures) == (name in WITH_UNRELATED)
    read_otherwise = predicted(saved_model_dir, test_sets["fnc1_test"], ANOTHER_STRATEGY)
    assert results[ANOTHER_SYSTEM]["fnc1_test"]["confusion"] == confusion_of(
        test_sets["fnc1_test"]["label"], read_otherwise, LABELS
    )


@pytest.mark.e2e
def test_fnc1_figures_on_its_own_terms_and_on_its_related_pairs(test_run, saved_model_dir, test_sets):
    dataset = test_sets["fnc1_test"]
    y_true, y_pred = np.asarray(dataset["label"]), np.asarray(predicted(saved_model_dir, dataset))
    figures = test_run["report"]["results"][MODEL_SYSTEM]
    assert figures["fnc1_test"]["fnc_relative_score"] == pytest.approx(fnc_relative_score(y_true, y_pred))
    assert figures["fnc1_test"]["f1m"] == figures["fnc1_test"]["macro_f1"]
    related = y_true != UNRELATED
    assert figures["fnc1_test"]["relatedness_accuracy"] == pytest.approx(np.mean(related == (y_pred != UNRELATED)))
    assert figures["fnc1_test_related"]["confusion"] == confusion_of(y_true[related], y_pred[related], LABELS)
    assert "fnc_relative_score" not in figures["fnc1_test_related"]
    assert "fnc_relative_score" not in figures["emergent_test"]


@pytest.mark.e2e
def test_majority_row_predicts_the_training_majority(test_run, saved_model_dir, synthetic_corpus, test_sets):
    train, _ = model_splits(saved_model_dir, str(synthetic_corpus.path), relevance=True)
    labels, counts = np.unique(train["label"], return_counts=True)
    majority = labels[counts.argmax()]
    for name in TEST_SETS:
        y_true = np.asarray(test_sets[name]["label"])
        figures = test_run["report"]["results"]["majority class"][name]
        assert figures["accuracy"] == pytest.approx(np.mean(y_true == majority)), name
        column = figures["labels"].index(majority)
        assert all(n == 0 for row in figures["confusion"] for j, n in enumerate(row) if j != column)
        assert figures["ece"] is None


@pytest.mark.e2e
def test_confusion_text_files_hold_the_reported_counts(test_run):
    results = test_run["report"]["results"][MODEL_SYSTEM]
    for name in TEST_SETS:
        lines = (test_run["out"] / f"{name}_confusion.txt").read_text().splitlines()
        rows = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[1:5]}
        assert rows == dict(zip(LABELS, results[name]["confusion"], strict=True))
        summary = f"accuracy {results[name]['accuracy']:.4f}   macro-F1 {results[name]['macro_f1']:.4f}"
        assert summary in lines


def table_rows(markdown: str, title: str) -> dict[str, list[str]]:
    section = markdown.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header = [cell.strip() for cell in section[0].strip("|").split("|")]
    rows = {}
    for line in section[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header[1:], cells[1:], strict=True))
    return rows


@pytest.mark.e2e
def test_results_md_answers_stance_fnc1_and_relevance(test_run):
    markdown = (test_run["out"] / "results.md").read_text()
    results = test_run["report"]["results"]
    stance = table_rows(markdown, "Stance, on pairs about their claim")
    assert set(stance[MODEL_SYSTEM]) == {
        f"{name} {column}"
        for name in ("emergent_test", "fnc1_test_related")
        for column in ("acc", "macro-F1", *(f"{label} F1" for label in STANCES))
    }
    assert stance[PUBLISHED_SYSTEM]["emergent_test acc"] == "73.28%"
    assert stance[PUBLISHED_SYSTEM]["fnc1_test_related acc"] == "–"
    assert stance[MODEL_SYSTEM]["emergent_test acc"] == f"{results[MODEL_SYSTEM]['emergent_test']['accuracy']:.2%}"
    fnc = table_rows(markdown, "FNC-1 on its own terms (related and unrelated pairs)")
    score = results[MODEL_SYSTEM]["fnc1_test"]["fnc_relative_score"] * 100
    assert fnc[MODEL_SYSTEM]["fnc1_test relative score"] == f"{score:.2f}"
    assert fnc[MODEL_SYSTEM]["fnc1_test unrelated F1"] != "–"
    published = [system for system in fnc if "[published, FNC-1 competition test, not this split]" in system]
    assert len(published) == 4
    assert fnc[published[0]]["fnc1_test relative score"] == "82.02"
    relevance = table_rows(markdown, "Relevance")
    assert relevance[MODEL_SYSTEM]["emergent_test_mismatched unrelated recall"] != "–"
    assert relevance[MODEL_SYSTEM]["fnc1_test relevance ECE"] != "–"


@pytest.mark.e2e
def test_evidence_faithfulness_for_each_reading_on_related_long_texts(test_run, test_sets):
    faithfulness = test_run["report"]["faithfulness"]
    assert set(faithfulness) == {MODEL_SYSTEM, *OTHER_STRATEGIES}
    dataset = test_sets["fnc1_test"]
    related_long = sum(
        label != UNRELATED and len(sentence_spans(text)) > 1
        for label, text in zip(dataset["label"], dataset["text"], strict=True)
    )
    assert related_long > 0
    for by_set in faithfulness.values():
        figures = by_set["fnc1_test_related"]
        assert figures["texts"] == related_long
        assert 0.0 <= figures["sufficiency"] <= 1.0 and 0.0 <= figures["comprehensiveness"] <= 1.0
        assert -1.0 <= figures["sufficiency_drop"] <= 1.0 and -1.0 <= figures["comprehensiveness_drop"] <= 1.0
    assert "### Evidence" in (test_run["out"] / "results.md").read_text()


# --- the validation split -----------------------------------------------------------------------


@pytest.mark.e2e
def test_validation_split_scores_each_sources_validation_claims(validation_run, synthetic_corpus):
    report = validation_run["report"]
    results = report["results"]
    names = {"arc_validation", "emergent_validation", "emergent_validation_mismatched", "fnc1_validation"}
    assert set(results) == {MODEL_SYSTEM, *OTHER_STRATEGIES}  # no baselines, no published figures
    assert names <= set(results[MODEL_SYSTEM])
    assert set(results[ANOTHER_SYSTEM]) & names == {"arc_validation", "fnc1_validation"}
    assert "published_fnc1_competition_test" not in report


@pytest.mark.e2e
def test_validation_compares_relevance_designs(validation_run):
    designs = validation_run["report"]["relevance_designs"]
    assert set(designs["results"]) == {
        "the model's own unrelated label",
        "TF-IDF cosine",
        "sentence-embedding cosine (base model)",
    }
    assert set(designs["thresholds"]) == {"TF-IDF cosine", "sentence-embedding cosine (base model)"}
    for by_set in designs["results"].values():
        assert "emergent_validation_mismatched" in by_set
        for figures in by_set.values():
            assert 0.0 <= figures["accuracy"] <= 1.0 and 0.0 <= figures["unrelated_f1"] <= 1.0
            assert isinstance(figures["mixed"], bool)
    assert "### Relevance designs on validation" in (validation_run["out"] / "results.md").read_text()


def test_unknown_split_exits_with_a_message(saved_model_dir, synthetic_corpus, tmp_path):
    with pytest.raises(SystemExit, match="--split must be one of test, validation, not 'dev'"):
        run_into(tmp_path / "report", saved_model_dir, synthetic_corpus.path, split="dev")
    assert not (tmp_path / "report").exists()


@pytest.mark.e2e
def test_a_three_label_model_is_evaluated_with_its_own_labels(saved_three_label_model_dir, synthetic_corpus, tmp_path):
    report, out = run_into(tmp_path / "report", saved_three_label_model_dir, synthetic_corpus.path, baselines=False)
    assert report["labels"] == list(STANCES)
    figures = report["results"][MODEL_SYSTEM]
    assert figures["emergent_test"]["labels"] == list(STANCES)
    # The set's unrelated pairs still count: the model can only get them wrong.
    assert figures["fnc1_test"]["labels"] == list(LABELS)
    assert figures["fnc1_test"]["per_class"][UNRELATED]["recall"] == 0.0
    assert figures["emergent_test_mismatched"]["accuracy"] == 0.0
    assert "relevance_ece" not in figures["fnc1_test"]
    assert not list(out.glob("*relevance_reliability.png"))


# --- finding the model --------------------------------------------------------------------------


def test_default_model_is_the_latest_in_the_store(bento_store, saved_model_dir):
    register(saved_model_dir)
    latest = register(saved_model_dir)
    assert resolve(EvalConfig().model) == find(latest)[0]


@pytest.mark.e2e
def test_run_with_a_store_tag_and_no_baselines(bento_store, saved_model_dir, synthetic_corpus, tmp_path):
    tag = register(saved_model_dir)
    report, out = run_into(tmp_path / "report", tag, synthetic_corpus.path, baselines=False)
    assert json.loads((out / "report.json").read_text())["model"] == str(find(tag)[0])
    assert set(report["results"]) == {MODEL_SYSTEM, *OTHER_STRATEGIES}
    assert set(report["results"][MODEL_SYSTEM]) == {*TEST_SETS, "fnc1_test_related"}


@pytest.mark.e2e
def test_the_slow_parts_can_be_left_out(saved_model_dir, synthetic_corpus, tmp_path):
    report, out = run_into(
        tmp_path / "report",
        saved_model_dir,
        synthetic_corpus.path,
        baselines=False,
        long_text_strategies=False,
        faithfulness=False,
    )
    assert set(report["results"]) == {MODEL_SYSTEM}
    assert "faithfulness" not in report and report["evidence_labels"]
    assert "### Evidence: is the answer" not in (out / "results.md").read_text()


def test_recipe_score_counts_mismatched_pairs_with_their_source():
    from eval.evaluate import recipe_score

    labels = ["asserting", "disputing", "reporting", "unrelated"]
    figures = {
        # Emergent: 2 asserting right, 1 disputing called asserting; 2 mismatched, one called reporting.
        "emergent_validation": {"labels": labels, "confusion": [[2, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0] * 4]},
        "emergent_validation_mismatched": {"labels": labels, "confusion": [[0] * 4, [0] * 4, [0] * 4, [0, 0, 1, 1]]},
        "fnc1_validation": {"labels": labels[:3], "confusion": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
        "fnc1_validation_related": {"labels": labels[:3], "confusion": [[9, 0, 0], [0, 0, 0], [0, 0, 0]]},
    }
    scores = recipe_score(figures)
    # Emergent over asserting, disputing, unrelated (the labels its pairs have): F1 0.8, 0, 2/3.
    assert scores["emergent"] == pytest.approx((0.8 + 0 + 2 / 3) / 3)
    assert scores["fnc1"] == 1.0  # the related-only figures are not counted again
    assert scores["mean"] == pytest.approx((scores["emergent"] + 1.0) / 2)


@pytest.mark.e2e
def test_validation_report_has_the_recipe_score(validation_run):
    scores = validation_run["report"]["recipe_score"]
    assert set(scores) == {"arc", "emergent", "fnc1", "mean"}
    assert scores["mean"] == pytest.approx(np.mean([scores["arc"], scores["emergent"], scores["fnc1"]]))
    assert "### What recipes are chosen on" in (validation_run["out"] / "results.md").read_text()


def test_validation_sets_follow_the_models_own_split(saved_model_dir, synthetic_corpus, tmp_path):
    """A model trained with another seed is scored on the claims that seed held out, never on its training claims."""
    import shutil
    from dataclasses import asdict

    from models.training_record import TRAINING_INFO_FILE
    from training.data import split_by_group

    model_dir = shutil.copytree(saved_model_dir, tmp_path / "model")
    saved = asdict(TrainConfig(seed=7, validation_fraction=0.34))
    (model_dir / TRAINING_INFO_FILE).write_text(json.dumps({"training_config": saved}))
    trained = with_split_flags(saved_config(model_dir, str(synthetic_corpus.path)), EvalConfig(split="validation"))
    assert (trained.seed, trained.validation_fraction) == (7, 0.34)
    corpus = load_corpus(synthetic_corpus.path)
    sets = evaluation_sets(corpus, EvalConfig(split="validation"), trained)
    train, validation = split_by_group(corpus.train_pool, 0.34, 7)
    news = {name: d for name, d in sets.items() if not name.startswith(CLAIM_EVIDENCE_SOURCES)}
    held = {g for name, d in news.items() if not name.endswith("_mismatched") for g in d["group"]}
    assert held == set(validation["group"]) and not held & set(train["group"])
    # Each claim–evidence corpus's validation claims, held out of its training part by the same seed, and FEVER
    # Symmetric's dev pairs (evaluated on, never trained on).
    assert {name for name in sets if name not in news} == {f"{s}_validation" for s in CLAIM_EVIDENCE_SOURCES} | {
        "fever_symmetric_dev"
    }
    _, [claim_evidence_validation] = claim_evidence_splits(trained, CLAIM_EVIDENCE_SOURCES)
    held_claims = {
        g for name, d in sets.items() if name not in news and name != "fever_symmetric_dev" for g in d["group"]
    }
    assert held_claims == set(claim_evidence_validation["group"])
