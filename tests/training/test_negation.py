import pytest

from training.negation import HAND_WRITTEN_FILE, Negation, NegationRule, hand_written, negate

A, NO, DO, NEVER = NegationRule.AUXILIARY_NOT, NegationRule.THERE_IS_NO, NegationRule.DO_NOT, NegationRule.NEVER
RULE_CASES = [
    # an auxiliary, modal or copula takes "not"
    ("Russia's airstrikes are targeting the IS group", "Russia's airstrikes are not targeting the IS group", A),
    ("Apple will launch a 4-inch iPhone in 2015", "Apple will not launch a 4-inch iPhone in 2015", A),
    ("Kim Jong Un's sister has been put in charge", "Kim Jong Un's sister has not been put in charge", A),
    ("Apple Will Shut Down Beats Music", "Apple Will Not Shut Down Beats Music", A),
    ("Seth Rogen to play Steve Wozniak", "Seth Rogen not to play Steve Wozniak", A),
    # "no" after "there is"
    ("There was a terrorist plot to target shoppers", "There was no terrorist plot to target shoppers", NO),
    ("There's an audio recording of the shooting", "There's no audio recording of the shooting", NO),
    # a main verb: "does/did not" and its base form, or "never"
    ("A photo shows Putin in a motorcade", "A photo does not show Putin in a motorcade", DO),
    ("Israel caused flooding in Gaza", "Israel did not cause flooding in Gaza", DO),
    ("Teacher had sex with a student", "Teacher did not have sex with a student", DO),
    ("ISIS Beheads American Journalist", "ISIS Does Not Behead American Journalist", DO),
    ("ISIS used chemical weapons in Kobane", "ISIS never used chemical weapons in Kobane", NEVER),
    # a headline's passive participle
    ("Foley beheaded by ISIS", "Foley not beheaded by ISIS", NegationRule.PARTICIPLE_NOT),
    ("Steve Jobs film delayed", "Steve Jobs film not delayed", NegationRule.PARTICIPLE_NOT),
    # an existing negation removed
    ("The vaccine does not alter human DNA", "The vaccine does alter human DNA", NegationRule.NEGATION_REMOVED),
    ("The vaccine doesn't alter human DNA", "The vaccine does alter human DNA", NegationRule.NEGATION_REMOVED),
    ("ISIS never used chemical weapons", "ISIS used chemical weapons", NegationRule.NEGATION_REMOVED),
    ("Apple no longer sells the iPod", "Apple sells the iPod", NegationRule.NEGATION_REMOVED),
    # antonyms
    ("The story is true", "The story is false", NegationRule.ANTONYM),
    ("Fake photo of the storm goes viral", "Real photo of the storm goes viral", NegationRule.ANTONYM),
]  # fmt: skip


@pytest.mark.parametrize(("claim", "negated", "rule"), RULE_CASES, ids=[case[0][:40] for case in RULE_CASES])
def test_each_rule_writes_the_claims_negation(claim, negated, rule):
    negation = negate(claim)
    assert (negation.claim, negation.rule) == (negated, rule)


ADDED = (NegationRule.AUXILIARY_NOT, NegationRule.THERE_IS_NO, NegationRule.NEVER, NegationRule.PARTICIPLE_NOT)


@pytest.mark.parametrize("claim", [case[0] for case in RULE_CASES if case[2] in ADDED])
def test_negating_a_negation_gives_the_claim_back(claim):
    """What one rule adds ("not", "no", "never") the next removes."""
    negated = negate(claim)
    assert negate(negated.claim) == Negation(claim, NegationRule.NEGATION_REMOVED)


@pytest.mark.parametrize(
    "claim",
    [
        "World's oldest burger",  # no verb
        "For sale: Tiger's former island in Sweden",
        "After police published a post, the man replied",  # the first predicate is a subordinate clause's
        "Is Apple about to launch a MacBook?",  # a question
    ],
)
def test_a_claim_with_no_predicate_to_negate_is_left_out(claim):
    assert negate(claim) is None


def test_names_in_a_sentence_are_not_taken_for_verbs():
    assert negate("Steve Jobs met Wozniak in 1971").claim in (
        "Steve Jobs did not meet Wozniak in 1971",
        "Steve Jobs never met Wozniak in 1971",
    )
    assert negate("A man who slaps people was arrested").claim == "A man who slaps people was not arrested"


def test_the_hand_written_negations_win_over_the_rules(monkeypatch, tmp_path):
    table = tmp_path / "hand.tsv"
    table.write_text("# comment\nThe attacker shot  on Parliament Hill is named Bibeau\tThe attacker is someone else\n")
    monkeypatch.setattr("training.negation.HAND_WRITTEN_FILE", table)
    hand_written.cache_clear()
    try:
        negation = negate("The attacker shot on Parliament Hill is NAMED Bibeau")
        assert (negation.claim, negation.rule) == ("The attacker is someone else", NegationRule.HAND_WRITTEN)
    finally:
        hand_written.cache_clear()


def test_every_hand_written_negation_differs_from_its_claim():
    rows = [line.split("\t") for line in HAND_WRITTEN_FILE.read_text().splitlines() if line and line[0] != "#"]
    assert rows and all(len(row) == 2 and row[0].strip() != row[1].strip() for row in rows)
