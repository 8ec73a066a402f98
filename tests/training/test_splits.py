import json
import shutil
from collections import Counter
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from models.training_record import TRAINING_INFO_FILE
from tests.training.test_train import tiny_config
from training.config import RECIPES, TrainConfig
from training.splits import AUX_SOURCES, balanced_draw, build_splits, model_splits, saved_config, subsample


def test_build_splits_merges_user_files_and_splits_by_claim(synthetic_corpus, tiny_base_model_dir, tmp_path):
    user_file = tmp_path / "mine.jsonl"
    rows = [{"claim": f"Mine {i % 4}", "text": f"text {i}", "label": "for"} for i in range(8)]
    user_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tiny_config(
        synthetic_corpus, tiny_base_model_dir, tmp_path, train_files=[str(user_file)], max_fnc_arc_pairs=0
    )
    train, validation = build_splits(config)
    assert set(train["source"]) | set(validation["source"]) == {"emergent", "fnc1", "arc", "mine"}
    assert not set(train["group"]) & set(validation["group"])
    assert not set(train["claim"]) & set(validation["claim"])
    assert Counter(train["source"])["mine"] + Counter(validation["source"])["mine"] == 8


def test_relevance_adds_unrelated_pairs_and_mismatched_emergent_ones(synthetic_corpus, tiny_base_model_dir, tmp_path):
    train, validation = build_splits(tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path))
    for split in (train, validation):
        by_source = Counter((s, label) for s, label in zip(split["source"], split["label"], strict=True))
        assert by_source["emergent", "unrelated"] == len({g for g, s in zip(split["group"], split["source"],
                                                           strict=True) if s == "emergent"})  # fmt: skip
    without = build_splits(tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path, relevance=False))
    assert all("unrelated" not in split["label"] for split in without)


def test_unrelated_pairs_are_capped_apart_from_related_ones(synthetic_corpus, tiny_base_model_dir, tmp_path):
    config = tiny_config(
        synthetic_corpus,
        tiny_base_model_dir,
        tmp_path,
        max_fnc_arc_pairs=3,
        max_unrelated_pairs=1,
        mismatched_per_claim=0,
    )
    train, _ = build_splits(config)
    aux = Counter(label == "unrelated" for s, label in zip(train["source"], train["label"], strict=True)
                  if s in AUX_SOURCES)  # fmt: skip
    assert aux == {False: 3, True: 1}
    assert "unrelated" not in train.filter(lambda row: row["source"] == "emergent")["label"]


def test_build_splits_caps_only_aux_validation_pairs_and_sorts_by_length(
    synthetic_corpus, tiny_base_model_dir, tmp_path
):
    uncapped = build_splits(tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path))[1]
    config = tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path, max_validation_pairs=2)
    validation = build_splits(config)[1]
    related_aux = [s for s, label in zip(validation["source"], validation["label"], strict=True)
                   if s in AUX_SOURCES and label != "unrelated"]  # fmt: skip
    assert len(related_aux) == 2
    assert Counter(validation["source"])["emergent"] == Counter(uncapped["source"])["emergent"] > 0
    lengths = [len(c) + len(t) for c, t in zip(validation["claim"], validation["text"], strict=True)]
    assert lengths == sorted(lengths)


def test_build_splits_with_nothing_to_train_on_exits(synthetic_corpus, tiny_base_model_dir, tmp_path):
    with pytest.raises(SystemExit, match="nothing to train on"):
        build_splits(tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path, sources=""))


def test_subsample_caps_only_the_given_sources():
    from training.data import to_dataset

    frame = pd.DataFrame(
        {
            "claim": [f"c{i}" for i in range(30)],
            "text": [f"t{i}" for i in range(30)],
            "label": [("asserting", "reporting", "unrelated")[i % 3] for i in range(30)],
            "source": ["emergent"] * 10 + ["fnc1"] * 10 + ["arc"] * 10,
            "group": [f"g{i}" for i in range(30)],
            "text_group": [f"g{i}" for i in range(30)],
        }
    )
    dataset = to_dataset(frame)
    capped = subsample(dataset, 5, seed=0, sources=AUX_SOURCES)
    counts = Counter(capped["source"])
    assert counts["emergent"] == 10
    assert counts["fnc1"] + counts["arc"] == 5
    only_unrelated = subsample(dataset, 2, seed=0, sources=AUX_SOURCES, unrelated=True)
    kinds = Counter((s in AUX_SOURCES, label == "unrelated") for s, label in
                    zip(only_unrelated["source"], only_unrelated["label"], strict=True))  # fmt: skip
    assert kinds[True, True] == 2 and kinds[True, False] == 13 and kinds[False, False] + kinds[False, True] == 10
    assert capped["claim"] == sorted(capped["claim"], key=lambda c: int(c[1:]))  # original order kept
    assert len(subsample(dataset, 7, seed=0)) == 7
    assert subsample(dataset, 0, seed=0) is dataset
    assert subsample(dataset, 100, seed=0) is dataset


@pytest.mark.parametrize(
    ("sizes", "limit", "expected"),
    [
        ({"disputing": 3, "asserting": 40, "reporting": 60}, 30, {"disputing": 3, "asserting": 13, "reporting": 14}),
        ({"disputing": 20, "asserting": 20, "reporting": 20}, 30, {"disputing": 10, "asserting": 10, "reporting": 10}),
        ({"disputing": 0, "asserting": 9, "reporting": 50}, 30, {"disputing": 0, "asserting": 9, "reporting": 21}),
    ],
)
def test_balanced_draw_gives_each_label_an_equal_share_or_all_it_has(sizes, limit, expected):
    start = np.cumsum([0, *sizes.values()])
    by_label = {label: list(range(a, a + n)) for (label, n), a in zip(sizes.items(), start, strict=False)}
    kept = balanced_draw(by_label, limit, np.random.default_rng(0))
    assert len(kept) == len(set(kept)) == sum(expected.values())
    assert {label: len(set(kept) & set(rows)) for label, rows in by_label.items()} == expected


def test_subsample_balanced_keeps_every_rare_label_row_a_uniform_draw_would_thin():
    from training.data import to_dataset

    labels = ["disputing"] * 6 + ["asserting"] * 60 + ["reporting"] * 60
    n = len(labels)
    frame = pd.DataFrame(
        {"claim": [f"c{i}" for i in range(n)], "text": [f"t{i}" for i in range(n)], "label": labels,
         "source": ["fnc1"] * n, "group": [f"g{i}" for i in range(n)], "text_group": [f"g{i}" for i in range(n)]}
    )  # fmt: skip
    dataset = to_dataset(frame)
    balanced = Counter(subsample(dataset, 30, seed=0, sources=AUX_SOURCES, balanced=True)["label"])
    assert balanced == {"disputing": 6, "asserting": 12, "reporting": 12}
    uniform = Counter(subsample(dataset, 30, seed=0, sources=AUX_SOURCES)["label"])
    assert sum(uniform.values()) == 30 and uniform["disputing"] < 6


def test_model_splits_rebuild_the_split_saved_with_the_model(saved_model_dir, synthetic_corpus, tmp_path):

    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    saved = asdict(
        TrainConfig(data_dir="/nowhere", max_fnc_arc_pairs=2, max_unrelated_pairs=1, sources="emergent,fnc1")
    )
    (model_dir / TRAINING_INFO_FILE).write_text(json.dumps({"training_config": saved}))
    train, _ = model_splits(model_dir, str(synthetic_corpus.path))
    related = Counter(s for s, label in zip(train["source"], train["label"], strict=True) if label != "unrelated")
    assert related["fnc1"] == 2 and related["arc"] == 0 and related["emergent"] > 0
    assert (
        Counter(s for s, label in zip(train["source"], train["label"], strict=True) if label == "unrelated")["fnc1"]
        <= 1
    )


def test_model_splits_of_a_three_label_model_have_no_unrelated_pairs(saved_three_label_model_dir, synthetic_corpus):
    """Its saved config predates relevance; its labels say what it was trained on."""
    train, validation = model_splits(saved_three_label_model_dir, str(synthetic_corpus.path))
    assert "unrelated" not in train["label"] and "unrelated" not in validation["label"]
    with_relevance, _ = model_splits(saved_three_label_model_dir, str(synthetic_corpus.path), relevance=True)
    assert "unrelated" in with_relevance["label"]


def test_a_model_saved_before_the_claim_evidence_corpora_rebuilds_without_them(
    saved_model_dir, synthetic_corpus, tmp_path
):
    """Its recipe's name may now add the corpora; the model never saw them, so its splits must not hold them."""
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    saved = asdict(TrainConfig(recipe="default", sources="emergent"))
    saved = {k: v for k, v in saved.items() if not k.startswith(("claim_evidence", "max_claim_evidence"))}
    (model_dir / TRAINING_INFO_FILE).write_text(json.dumps({"training_config": saved}))
    train, validation = model_splits(model_dir, str(synthetic_corpus.path))
    assert set(train["source"]) | set(validation["source"]) == {"emergent"}
    recorded = asdict(TrainConfig(recipe="default", sources="emergent", **RECIPES["default"]))
    (model_dir / TRAINING_INFO_FILE).write_text(json.dumps({"training_config": recorded}))
    train, _ = model_splits(model_dir, str(synthetic_corpus.path))
    assert "fever" in set(train["source"])


def test_a_flag_saved_under_its_former_name_is_read_under_the_new_one(saved_model_dir, synthetic_corpus, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    saved = asdict(TrainConfig(recipe="default", sources="emergent"))
    saved["max_aux_pairs"] = saved.pop("max_fnc_arc_pairs") + 7
    (model_dir / TRAINING_INFO_FILE).write_text(json.dumps({"training_config": saved}))
    assert saved_config(model_dir, str(synthetic_corpus.path)).max_fnc_arc_pairs == saved["max_aux_pairs"]
