import json

import numpy as np
import pytest

from eval.matching_quality import MatchingConfig, SplitSimilarities, figures, fnc1_pairs, run, threshold_for
from serving.monitor.matching import MatchSettings


def test_the_threshold_is_the_highest_that_keeps_the_target_share_of_related_pairs():
    similarity = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.5])
    related = np.array([True, True, True, True, False, True])
    assert threshold_for(similarity, related, 1.0) == 0.5
    assert threshold_for(similarity, related, 0.8) == 0.6  # 4 of the 5 related kept
    assert np.mean(similarity[related] >= threshold_for(similarity, related, 0.8)) >= 0.8


def split(similarity, rank, related) -> SplitSimilarities:
    return SplitSimilarities(
        related=np.array(related),
        by_cut={"sentences": np.array(similarity)},
        rank={"sentences": np.array(rank)},
        claims=3,
        documents=2,
        seconds={"sentences": 0.0},
        pieces={"sentences": 0},
        served_vectors=[],
        texts=[],
        claim_texts=[],
    )


def test_a_pair_is_kept_when_close_enough_and_within_top_k():
    pairs = split([0.9, 0.8, 0.5, 0.1], [0, 1, 2, 0], [True, True, False, False])
    assert figures(pairs, "sentences", MatchSettings(threshold=0.4, top_k=5)) == {
        "related kept": 1.0,
        "related kept, no top_k": 1.0,
        "unrelated filtered": 0.5,
        "candidates per document": 1.5,
    }
    capped = figures(pairs, "sentences", MatchSettings(threshold=0.4, top_k=1))
    assert (capped["related kept"], capped["related kept, no top_k"], capped["unrelated filtered"]) == (0.5, 1.0, 1.0)


def test_validation_is_the_default_recipes_held_out_fnc1_claims(synthetic_corpus):
    splits = fnc1_pairs(str(synthetic_corpus.path), max_documents=0)
    assert set(splits["validation"]["source"]) == {"fnc1"}
    assert not set(splits["validation"]["claim"]) & set(splits["test"]["claim"])
    assert set(splits["test"]["claim"]) <= synthetic_corpus.fnc1_test_headlines
    few = fnc1_pairs(str(synthetic_corpus.path), max_documents=1)
    assert all(len(set(pairs["text"])) == 1 for pairs in few.values())


@pytest.mark.e2e
def test_the_report_names_threshold_and_figures_per_reading(synthetic_corpus, tiny_base_model_dir, tmp_path):
    config = MatchingConfig(
        data_dir=str(synthetic_corpus.path),
        embedder=str(tiny_base_model_dir),
        num_threads=1,
        graph_claims=2_000,
        output_dir=str(tmp_path),
    )
    report = run(config)
    graph = report["graph"]
    assert graph["watched claims"] == 2_000 and 0 < graph["real texts"] < 2_000
    assert graph["exact candidates"] > 0 and graph["graph recall"] >= 0.95  # 2,000 claims: the graph all but exact
    assert abs(graph["related kept, graph"] - graph["related kept, exact"]) <= 0.05
    assert "Neighbour graph against the exact search" in (tmp_path / "matching.md").read_text()
    assert json.loads((tmp_path / "matching.json").read_text())["cuts"] == report["cuts"]
    for cut in ("sentences", "passages", "whole text"):
        rows = report["cuts"][cut]
        assert [row["target recall"] for row in rows] == config.target_recalls
        for row in rows:
            assert row["validation"]["related kept"] >= row["target recall"]
            keys = {"related kept", "related kept, no top_k", "unrelated filtered", "candidates per document"}
            assert set(row["test"]) == keys
        assert [row["threshold"] for row in rows] == sorted(row["threshold"] for row in rows)
    assert (tmp_path / "matching.md").read_text().count("| sentences |") == 2 * len(
        config.target_recalls
    ) + 2  # + splits


@pytest.mark.e2e
def test_with_a_model_the_path_is_compared_with_every_pair(synthetic_corpus, embedder_dir, saved_model_dir, tmp_path):
    config = MatchingConfig(
        data_dir=str(synthetic_corpus.path),
        embedder=str(embedder_dir),
        num_threads=1,
        model=str(saved_model_dir),
        graph_claims=0,
        output_dir=str(tmp_path),
    )
    stance = run(config)["stance"]
    every, path = stance["every pair (/track)"], stance["matched pairs only (the monitor)"]
    assert set(every) == set(path) == {"accuracy", "related macro-F1", "related disputing F1"}
    assert stance["cut"] == "passages" and stance["threshold"] == MatchSettings().threshold
    assert "matched pairs only (the monitor)" in (tmp_path / "matching.md").read_text()
