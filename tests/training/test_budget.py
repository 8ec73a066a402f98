import pytest
from datasets import Dataset

from training.budget import (
    REFERENCE_TOKENS_PER_SECOND,
    TIME_CAP_MINUTES,
    VALIDATION_TOKEN_COST,
    TrainingSize,
    pair_tokens,
    recipe_size,
    training_size,
)
from training.config import parse_config

PAIRS = Dataset.from_dict({"claim": ["A claim", "Another claim here"], "text": ["Short.", "word " * 300]})


def test_a_pair_counts_its_tokens_up_to_the_window(tokenizer):
    short, long = pair_tokens(PAIRS, tokenizer, max_length=64)
    assert short == len(tokenizer("A claim", "Short.")["input_ids"]) and long == 64


def test_the_size_is_tokens_times_epochs_and_validation_costs_a_third(tokenizer):
    size = training_size(PAIRS, PAIRS.select([0]), tokenizer, max_length=64, epochs=2.0)
    short = len(tokenizer("A claim", "Short.")["input_ids"])
    assert (size.pairs, size.tokens, size.validation_tokens) == (2, 2 * (short + 64), 2 * short)
    assert size.cost == pytest.approx(size.tokens + VALIDATION_TOKEN_COST * size.validation_tokens)
    assert size.minutes(tokens_per_second=size.cost / 60) == pytest.approx(1.0)


def test_the_reference_speed_gives_the_recipe_before_the_counterfactual_pairs_its_measured_45_minutes():
    before = TrainingSize(11029, 4.0, 2_845_628, 1_032_876)  # `python -m training.budget` on that recipe
    assert before.minutes() == pytest.approx(45, abs=0.5)
    assert REFERENCE_TOKENS_PER_SECOND > 0


@pytest.mark.e2e
def test_the_default_recipe_trains_within_the_cap_on_the_reference_machine(real_data_dir):
    size = recipe_size(parse_config(["--recipe", "default", "--data_dir", str(real_data_dir)]))
    assert size.minutes() <= TIME_CAP_MINUTES, size
    before = recipe_size(parse_config(["--data_dir", str(real_data_dir), "--epochs", "4", "--max_fnc_arc_pairs", "2000",
        "--max_unrelated_pairs", "800", "--max_claim_evidence_pairs", "1000", "--negated_claims", "false",
        "--attributed_evidence", "false"]))  # fmt: skip
    assert (before.tokens, before.validation_tokens) == (2_845_628, 1_032_876)  # the figures the speed rests on
