import numpy as np
import pytest
from datasets import Dataset

import eval.baselines as baselines_module
from eval.baselines import (
    PUBLISHED_EMERGENT,
    PUBLISHED_FNC1,
    EmbeddingRelevance,
    MajorityBaseline,
    TfidfBaseline,
    TfidfRelevance,
    TwoStageBaseline,
    best_threshold,
)
from models.labels import STANCES, UNRELATED
from models.metrics import macro_f1

ASSERTING, DISPUTING, REPORTING = STANCES

SUBJECTS = (
    "a meteorite crashed near the airport",
    "a burger has not decomposed in twenty years",
    "the council will ban bicycles downtown",
    "a singer bought an island",
    "the panda gave birth to triplets",
    "the coffee chain will close every branch",
    "an astronaut found ice on the moon",
    "the coach resigned after the final",
    "a shark was seen in the city fountain",
    "the mayor will run for president",
    "a lottery winner gave away his fortune",
    "the museum painting is a forgery",
    "a dog learned to drive a tractor",
    "the bridge will be painted pink",
    "a village voted to abolish clocks",
)
TEMPLATES = {
    # The label is obvious from the words: denial words, hedging words, or neither.
    DISPUTING: ("Officials denied that {s}; it is a hoax.", "The story that {s} is a hoax, and it was denied."),
    REPORTING: ("Reportedly {s}, the site claims.", "A blog claims that {s}, reportedly."),
    ASSERTING: ("{s}.", "Today {s}."),
}


def stance_pairs(subjects, per_label: dict[int, int]) -> Dataset:
    rows = {"claim": [], "text": [], "label": []}
    for k, subject in enumerate(subjects):
        for label, templates in TEMPLATES.items():
            for j in range(per_label[label]):
                rows["claim"].append(subject.capitalize())
                rows["text"].append(templates[(k + j) % len(templates)].format(s=subject).capitalize())
                rows["label"].append(label)
    return Dataset.from_dict(rows)


@pytest.fixture(scope="module")
def splits():
    # Asserting is the most frequent training label; validation and test are balanced, on claims of their own.
    train = stance_pairs(SUBJECTS[:9], {ASSERTING: 2, DISPUTING: 1, REPORTING: 1})
    validation = stance_pairs(SUBJECTS[9:12], {ASSERTING: 1, DISPUTING: 1, REPORTING: 1})
    test = stance_pairs(SUBJECTS[12:], {ASSERTING: 1, DISPUTING: 1, REPORTING: 1})
    return train, validation, test


def labelled(labels: list[str]) -> Dataset:
    return Dataset.from_dict({"claim": ["c"] * len(labels), "text": ["t"] * len(labels), "label": labels})


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([REPORTING, REPORTING, DISPUTING, ASSERTING, REPORTING], REPORTING),
        ([DISPUTING, ASSERTING, DISPUTING], DISPUTING),
    ],
)
def test_majority_baseline_predicts_the_most_frequent_training_label(labels, expected):
    majority = MajorityBaseline().fit(labelled(labels))
    assert majority.label == expected
    predictions = majority.predict(labelled([ASSERTING] * 4))
    assert predictions.tolist() == [expected] * 4


def test_tfidf_baseline_learns_the_cue_words_and_beats_the_majority_baseline(splits):
    train, validation, test = splits
    grid = (0.3, 1.0, 3.0)
    tfidf = TfidfBaseline().fit(train, validation, grid=grid)
    assert tfidf.c in grid
    assert tfidf.pipeline.named_steps["classifier"].C == tfidf.c

    y_true = np.asarray(test["label"])
    majority = MajorityBaseline().fit(train).predict(test)
    assert majority.tolist() == [ASSERTING] * len(test)
    majority_accuracy = float(np.mean(majority == y_true))
    assert majority_accuracy == pytest.approx(1 / 3)

    predictions = tfidf.predict(test)
    assert len(predictions) == len(test)
    tfidf_accuracy = float(np.mean(predictions == y_true))
    assert tfidf_accuracy >= 0.9 > majority_accuracy
    assert macro_f1(y_true, predictions, STANCES) > macro_f1(y_true, majority, STANCES)


def test_tfidf_picks_the_c_with_the_best_validation_macro_f1(splits, monkeypatch):
    train, validation, _ = splits
    validation_f1 = iter([0.2, 0.9, 0.5, 0.1])
    seen_labels = []

    def fake_macro_f1(y_true, y_pred, labels):
        seen_labels.append(list(y_true))
        return next(validation_f1)

    monkeypatch.setattr(baselines_module, "macro_f1", fake_macro_f1)
    tfidf = TfidfBaseline().fit(train, validation, grid=(0.3, 1.0, 3.0, 10.0))
    assert tfidf.c == 1.0
    assert tfidf.pipeline.named_steps["classifier"].C == 1.0
    assert seen_labels == [list(validation["label"])] * 4


def test_published_emergent_figures():
    assert PUBLISHED_EMERGENT.accuracy == 0.7328
    assert PUBLISHED_EMERGENT.macro_f1 == pytest.approx(0.723)
    assert "Ferreira" in PUBLISHED_EMERGENT.system


def with_unrelated(dataset: Dataset, other_subjects) -> Dataset:
    """The pairs, and as many again with each claim beside a text about another subject."""
    rows = dataset.to_dict()
    for k, claim in enumerate(list(dataset["claim"])):
        rows["claim"].append(claim)
        rows["text"].append(f"{other_subjects[k % len(other_subjects)].capitalize()}, a reader wrote on day {k}.")
        rows["label"].append(UNRELATED)
    return Dataset.from_dict(rows)


def test_best_threshold_separates_related_from_unrelated():
    similarity = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.05])
    related = np.array([True, True, True, False, False, False])
    threshold = best_threshold(similarity, related)
    assert 0.2 < threshold <= 0.7
    assert ((similarity >= threshold) == related).all()


def test_tfidf_relevance_and_the_two_stage_baseline_tell_unrelated_texts(splits):
    train, validation, test = splits
    train, validation = with_unrelated(train, SUBJECTS[12:]), with_unrelated(validation, SUBJECTS[:9])
    test = with_unrelated(test, SUBJECTS[9:12])
    relevance = TfidfRelevance(train).fit(validation)
    similarity = relevance.similarity(test)
    truth = np.asarray(test["label"]) != UNRELATED
    assert similarity[truth].mean() > similarity[~truth].mean()
    assert np.mean(relevance.related(test) == truth) >= 0.9
    related = lambda d: d.filter(lambda row: row["label"] != UNRELATED)  # noqa: E731
    stance = TfidfBaseline().fit(related(train), related(validation), grid=(1.0,))
    predictions = TwoStageBaseline(relevance, stance).predict(test)
    assert set(predictions) <= {*STANCES, UNRELATED}
    assert np.mean(predictions == np.asarray(test["label"])) >= 0.8


def test_embedding_relevance_is_the_cosine_of_mean_pooled_embeddings(tiny_base_model_dir):
    relevance = EmbeddingRelevance(str(tiny_base_model_dir), max_length=32, batch_size=2)
    pairs = Dataset.from_dict(
        {
            "claim": ["A meteorite crashed near the airport", "A singer bought an island", "Same words"],
            "text": ["A meteorite crashed near the airport", "The council will ban bicycles", "Same words"],
            "label": ["asserting", UNRELATED, "asserting"],
        }
    )
    similarity = relevance.similarity(pairs)
    np.testing.assert_allclose(similarity[[0, 2]], 1.0, atol=1e-5)
    assert -1.0 <= similarity[1] < 0.999
    embedded = relevance.embed(["short", "a much longer text than the other one", "short"])
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embedded[0], embedded[2], atol=1e-6)


def test_published_fnc1_scores_are_the_competition_tests():
    assert [p.relative_score for p in PUBLISHED_FNC1] == ["82.02", "81.97", "81.72", "90.0–90.7"]
