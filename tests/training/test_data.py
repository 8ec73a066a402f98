from collections import Counter

import pandas as pd
import pytest

from models.labels import LABELS
from training.data import (
    COLUMNS,
    DataFileError,
    headline_components,
    link_to_emergent,
    load_corpus,
    mismatched_pairs,
    read_emergent,
    read_fnc_format,
    split_by_group,
    to_dataset,
)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def assert_no_claim_on_both_sides(train, validation):
    assert len(train) and len(validation)
    assert not set(train["group"]) & set(validation["group"])
    assert not set(train["claim"]) & set(validation["claim"])
    assert not set(train["text_group"]) & set(validation["text_group"])


# --- synthetic corpus ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(synthetic_corpus):
    return load_corpus(synthetic_corpus.path)


def test_every_split_has_the_common_columns(corpus):
    for split in (corpus.train_pool, corpus.emergent_test, corpus.fnc1_test):
        assert tuple(split.column_names) == COLUMNS
        assert set(split["label"]) <= set(LABELS)


def test_emergent_split_follows_the_published_test_ids(synthetic_corpus, corpus):
    train, test = read_emergent(synthetic_corpus.path)
    assert len(train) + len(test) == synthetic_corpus.emergent_rows
    assert len(test) == synthetic_corpus.emergent_test_rows
    assert set(test.group) == synthetic_corpus.test_claim_ids
    assert set(train.group) == synthetic_corpus.train_claim_ids
    assert set(corpus.emergent_test["text"]) == synthetic_corpus.test_article_headlines
    emergent_pool = corpus.train_pool.filter(lambda row: row["source"] == "emergent")
    assert not set(emergent_pool["group"]) & synthetic_corpus.test_claim_ids


def test_emergent_labels_are_mapped(synthetic_corpus):
    train, _ = read_emergent(synthetic_corpus.path)
    # Every claim has articles for, against, observing, for.
    assert Counter(train.label) == {"asserting": 12, "disputing": 6, "reporting": 6}


def test_fnc_format_keeps_every_pair_with_its_body_and_the_groups_of_both_sides(synthetic_corpus):
    fnc = read_fnc_format(synthetic_corpus.path, ("fnc1/train_stances.csv", "fnc1/train_bodies.csv"), "fnc1")
    stances = pd.read_csv(synthetic_corpus.path / "fnc1/train_stances.csv")
    bodies = pd.read_csv(synthetic_corpus.path / "fnc1/train_bodies.csv").set_index("Body ID")["articleBody"]
    assert len(fnc) == len(stances)
    names = {"agree": "asserting", "disagree": "disputing", "discuss": "reporting", "unrelated": "unrelated"}
    for (headline, body_id, stance), row in zip(stances.itertuples(index=False), fnc.itertuples(), strict=True):
        assert row.claim == headline
        assert row.text == bodies[body_id]
        assert row.label == names[stance]
        assert row.source == "fnc1"
        # A related pair's headline and body are in one component; an unrelated pair's come from two.
        assert (row.group == row.text_group) == (stance != "unrelated")
    group_of_headline = dict(zip(fnc.claim, fnc.group, strict=False))
    for row in fnc[fnc.label == "unrelated"].itertuples():
        assert row.group == group_of_headline[row.claim]


def test_headline_components_join_pairs_sharing_a_headline_or_body():
    headlines = pd.Series(["A", "B", "C", "A", "D", "E"])
    bodies = pd.Series([1, 1, 2, 3, 3, 4])
    # A-1-B, A-3-D are one component; C (body 2) and E (body 4) are alone.
    assert headline_components(headlines, bodies) == [0, 0, 1, 0, 0, 2]


def test_headline_shared_by_a_train_and_a_test_claim_links_to_the_test_claim():
    """Emergent reuses some article headlines under two claims; the test claim must win either way round."""
    shared = "Apple cut watch health features"
    for order in (["test", "train"], ["train", "test"]):
        emergent = pd.DataFrame(
            {
                "claim": [f"{side} claim" for side in order],
                "text": [shared, shared],
                "group": order,
            }
        )
        fnc = pd.DataFrame(
            {
                "claim": [shared.upper(), "Another headline on the same body", "Unknown story"],
                "group": ["fnc1:0", "fnc1:0", "fnc1:1"],
                "text_group": ["fnc1:0", "fnc1:0", "fnc1:0"],  # the last is an unrelated pair
            }
        )
        linked = link_to_emergent(fnc, emergent, test_claims={"test"})
        assert linked.group.tolist() == ["test", "test", "fnc1:1"], order
        assert linked.text_group.tolist() == ["test", "test", "test"], order


def test_fnc1_pairs_of_emergent_test_claims_are_held_out(synthetic_corpus, corpus):
    assert set(corpus.fnc1_test["claim"]) == synthetic_corpus.fnc1_test_headlines
    assert set(corpus.fnc1_test["group"]) == synthetic_corpus.test_claim_ids
    pool = corpus.train_pool
    assert not set(pool["claim"]) & synthetic_corpus.fnc1_test_headlines
    assert not set(pool["text"]) & synthetic_corpus.fnc1_test_body_texts
    assert not set(pool["group"]) & synthetic_corpus.test_claim_ids


def test_fnc1_pairs_of_emergent_train_claims_are_grouped_under_the_claim(synthetic_corpus, corpus):
    variant, claim_id = synthetic_corpus.fnc1_case_variant
    fnc_pool = corpus.train_pool.filter(lambda row: row["source"] == "fnc1")
    group_of = dict(zip(fnc_pool["claim"], fnc_pool["group"], strict=True))
    assert group_of[variant] == claim_id  # matched despite case and spacing
    assert group_of["Story 1.0: " + "a burger kept for twenty years has not decomposed"] == "claim-0001-uuid"
    # Headlines about no Emergent claim keep their own component group.
    assert group_of["River festival 0 breaks record"].startswith("fnc1:")


def pairs_of(dataset) -> set[tuple[str, str]]:
    return set(zip(dataset["claim"], dataset["text"], strict=True))


def test_unrelated_pairs_stay_where_both_sides_belong_and_straddling_ones_are_dropped(synthetic_corpus, corpus):
    unrelated = synthetic_corpus.fnc1_unrelated
    assert unrelated["test"] in pairs_of(corpus.fnc1_test)
    assert unrelated["pool"] in pairs_of(corpus.train_pool)
    everything = pairs_of(corpus.train_pool) | pairs_of(corpus.fnc1_test)
    assert unrelated["dropped_train_headline"] not in everything
    assert unrelated["dropped_test_headline"] not in everything
    assert Counter(corpus.fnc1_test["label"])["unrelated"] == 1
    arc_pool = corpus.train_pool.filter(lambda row: row["source"] == "arc")
    assert Counter(arc_pool["label"])["unrelated"] == 4


def test_mismatched_pairs_join_each_claim_with_texts_of_other_claims(corpus):
    emergent = corpus.train_pool.filter(lambda row: row["source"] == "emergent")
    mismatched = mismatched_pairs(emergent, 3, seed=0)
    claims = set(emergent["group"])
    assert len(mismatched) == 3 * len(claims)
    assert set(mismatched["label"]) == {"unrelated"} and set(mismatched["source"]) == {"emergent"}
    text_group = dict(zip(emergent["text"], emergent["group"], strict=True))
    claim_of = dict(zip(emergent["group"], emergent["claim"], strict=False))
    for row in mismatched:
        assert row["group"] != row["text_group"] == text_group[row["text"]]
        assert row["claim"] == claim_of[row["group"]]
    assert mismatched_pairs(emergent, 3, seed=0)["text"] == mismatched["text"]
    assert len(mismatched_pairs(emergent, 0, seed=0)) == 0


def test_sources_choose_what_goes_into_the_pool(synthetic_corpus):
    only_emergent = load_corpus(synthetic_corpus.path, ("emergent",))
    assert set(only_emergent.train_pool["source"]) == {"emergent"}
    # The held-out sets do not depend on what is trained on.
    assert len(only_emergent.fnc1_test) == len(load_corpus(synthetic_corpus.path).fnc1_test)
    assert set(load_corpus(synthetic_corpus.path, ("fnc1", "arc")).train_pool["source"]) == {"fnc1", "arc"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_by_group_never_puts_a_claim_on_both_sides(corpus, seed):
    train, validation = split_by_group(corpus.train_pool, 0.25, seed)
    assert_no_claim_on_both_sides(train, validation)
    held = set(validation["group"])
    pool = zip(corpus.train_pool["group"], corpus.train_pool["text_group"], strict=True)
    straddling = sum((group in held) != (text_group in held) for group, text_group in pool)
    assert len(train) + len(validation) == len(corpus.train_pool) - straddling
    # Each source with more than one claim gives some to validation.
    assert set(validation["source"]) == {"emergent", "fnc1", "arc"}


def test_split_by_group_is_deterministic_for_a_seed(corpus):
    a = split_by_group(corpus.train_pool, 0.25, 3)[1]
    b = split_by_group(corpus.train_pool, 0.25, 3)[1]
    assert a["group"] == b["group"]


def test_split_by_group_holds_out_whole_groups_only():
    frame = pd.DataFrame(
        {
            "claim": [f"claim {g}" for g in "aaabbbcccddd"] + ["lonely"],
            "text": [f"text {i}" for i in range(13)],
            "label": [0, 1, 2] * 4 + [0],
            "source": ["mine"] * 12 + ["single"],
            "group": list("aaabbbcccddd") + ["z"],
            "text_group": list("aaabbbcccddd") + ["z"],
        }
    )
    train, validation = split_by_group(to_dataset(frame), 0.25, 0)
    assert Counter(validation["group"]).most_common() in ([(g, 3)] for g in "abcd")
    assert "z" in train["group"]  # a source with a single group is never held out


def test_data_file_error_names_file_row_and_column():
    error = DataFileError("data/mine.csv", "bad value", row=3, column="label")
    assert str(error) == "data/mine.csv, row 3, column 'label': bad value"
    assert isinstance(error, ValueError)
    assert str(DataFileError("x.csv", "cannot read")) == "x.csv: cannot read"


# --- the real corpus (../shared/data) -----------------------------------------------------------


def test_real_emergent_test_split_matches_the_readme(real_corpus):
    assert len(real_corpus.emergent_test) == 524
    assert len(set(real_corpus.emergent_test["group"])) == 60
    assert Counter(real_corpus.train_pool["source"])["emergent"] == 2071


def test_real_validation_split_shares_no_claim_headline_or_body_with_training(real_corpus):
    train, validation = split_by_group(real_corpus.train_pool, 0.15, 42)
    assert_no_claim_on_both_sides(train, validation)
    assert set(validation["source"]) == {"emergent", "fnc1", "arc"}
    assert not set(train["text"]) & set(validation.filter(lambda row: row["source"] != "emergent")["text"])
    assert Counter(validation["label"])["unrelated"] > 300  # both sides held out: about 0.15 squared of them


def test_real_fnc1_test_shares_no_headline_or_body_with_training(real_corpus):
    pool = real_corpus.train_pool.to_pandas()
    fnc1_test = real_corpus.fnc1_test.to_pandas()
    emergent_test = real_corpus.emergent_test.to_pandas()
    assert len(fnc1_test) > 0
    assert set(fnc1_test.group) <= set(emergent_test.group)
    fnc_pool = pool[pool.source == "fnc1"]
    assert not set(fnc_pool.claim) & set(fnc1_test.claim)
    assert not set(fnc_pool.text) & set(fnc1_test.text)
    assert not set(pool.claim.map(_norm)) & set(emergent_test.text.map(_norm))
    assert not set(pool.group) & set(emergent_test.group)
    assert not set(pool.text_group) & set(emergent_test.group)
    # FNC-1's unrelated pairs come along where both their headline and their body are held out.
    assert Counter(fnc1_test.label) == {"reporting": 2213, "unrelated": 1719, "asserting": 724, "disputing": 146}


def test_real_fnc1_headlines_of_test_articles_are_all_in_fnc1_test(real_data_dir, real_corpus):
    stances = pd.read_csv(real_data_dir / "fnc1/train_stances.csv")
    related = stances[stances.Stance != "unrelated"]
    test_headlines = set(real_corpus.emergent_test.to_pandas().text.map(_norm))
    linked = related[related.Headline.map(_norm).isin(test_headlines)]
    assert len(linked) > 0
    assert set(linked.Headline) <= set(real_corpus.fnc1_test["claim"])
