from datasets import Dataset

from training.counterfactual import (
    ATTRIBUTIONS,
    attributed,
    attributed_evidence,
    negated_claims,
    swapped_label,
    with_counterfactuals,
)
from training.negation import negate


def pairs(*rows: tuple[str, str, str, str]) -> Dataset:
    claims, texts, labels, sources = zip(*rows, strict=True)
    return Dataset.from_dict({"claim": list(claims), "text": list(texts), "label": list(labels),
                              "source": list(sources), "group": list(claims), "text_group": list(texts)})  # fmt: skip


NEWS = pairs(
    ("Apple will launch a new iPhone", "Apple confirmed the launch.", "asserting", "emergent"),
    ("Apple will launch a new iPhone", "Apple denied it will launch a phone.", "disputing", "emergent"),
    ("Apple will launch a new iPhone", "Reports say Apple may launch a phone.", "reporting", "emergent"),
    ("Apple will launch a new iPhone", "The festival drew a crowd.", "unrelated", "emergent"),
    ("World's oldest burger", "The burger is twenty years old.", "asserting", "fnc1"),  # no verb: left out
)
EVIDENCE = pairs(
    (
        "Coffee lowers the risk of heart disease",
        "The trial found lower risk among coffee drinkers.",
        "asserting",
        "fever",
    ),
    ("Coffee lowers the risk of heart disease", "The trial found no effect of coffee.", "disputing", "healthver"),
    ("The bridge is safe", "Engineers closed the bridge.", "disputing", "emergent"),  # news: not attributed
)


def test_the_labels_swap_asserting_and_disputing_and_keep_the_rest():
    assert [swapped_label(label) for label in ("asserting", "disputing", "reporting", "unrelated")] == [
        "disputing", "asserting", "reporting", "unrelated"
    ]  # fmt: skip


def test_each_related_pair_is_seen_with_its_claim_negated_and_its_label_swapped():
    negated = negated_claims(NEWS)
    assert negated.pairs["claim"] == ["Apple will not launch a new iPhone"] * 3
    assert negated.pairs["text"] == NEWS["text"][:3]  # the same texts
    assert negated.pairs["label"] == ["disputing", "asserting", "reporting"]
    assert negated.pairs["source"] == ["emergent"] * 3 and negated.pairs["group"] == NEWS["group"][:3]
    assert (negated.claims, negated.left_out) == (2, 1)  # the burger has no verb: counted, not negated
    assert sum(negated.by_rule.values()) == 1


def test_claim_evidence_pairs_that_take_a_side_are_attributed_with_their_label_kept():
    attributed_pairs = attributed_evidence(EVIDENCE)
    assert attributed_pairs["label"] == ["asserting", "disputing"]
    assert attributed_pairs["claim"] == EVIDENCE["claim"][:2]
    for original, text in zip(EVIDENCE["text"][:2], attributed_pairs["text"], strict=True):
        assert text != original and original.rstrip(".")[1:] in text


def test_attribution_is_fixed_by_the_pair_and_reads_as_a_sentence():
    texts = {attributed("The trial found no effect.", f"key {k}") for k in range(200)}
    assert attributed("The trial found no effect.", "key 1") == attributed("The trial found no effect.", "key 1")
    assert len(texts) > 20  # speakers and templates vary across pairs
    openings = {"said that the trial", "according to", "the trial found no effect,", "say the trial", "says the trial"}
    assert all(any(o in t.lower() for o in openings) for t in texts)
    assert len(ATTRIBUTIONS) == 4
    assert all("Russia hit rebels" in attributed("Russia hit rebels.", f"key {k}") for k in range(50))  # a name's case
    inner = [t for t in texts if not t.startswith("The trial")]
    assert inner and all("the trial found no effect" in t for t in inner)  # "The" lowered inside the sentence


def test_counterfactuals_join_the_training_pairs_as_asked():
    both = with_counterfactuals(EVIDENCE, negate_claims=True, attribute_evidence=True)
    assert len(with_counterfactuals(EVIDENCE, False, False)) == len(EVIDENCE)
    # 3 pairs, 2 attributed; then the 5 related ones again, negated
    assert len(both) == 3 + 2 + 5
    negated = both.select(range(5, 10))
    assert negated["claim"] == [negate(c).claim for c in both["claim"][:5]]
