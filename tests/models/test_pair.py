import pytest
from pydantic import ValidationError

from models.pair import DEFAULT_LIMITS, InputLimits, Pair


def test_a_pair_has_an_optional_title():
    assert Pair("c", "t").title is None
    assert Pair("c", "t", "h").title == "h"


@pytest.mark.parametrize("name", ["max_claim_chars", "max_text_chars", "max_title_chars", "max_evidence"])
def test_each_limit_is_range_checked_where_it_is_declared(name):
    with pytest.raises(ValidationError, match=name):
        InputLimits(**{name: 0})


def test_the_service_settings_and_the_batch_config_take_the_same_limits(monkeypatch):
    from serving.batch.config import BatchConfig
    from serving.jobs.options import JobInputError
    from serving.settings import ServiceSettings, SettingsError

    for name in InputLimits.model_fields:
        monkeypatch.delenv(f"CLAIMSTANCE_{name.upper()}", raising=False)
    service = ServiceSettings()
    assert {name: getattr(service, name) for name in InputLimits.model_fields} == DEFAULT_LIMITS.model_dump()
    assert BatchConfig(input="a.jsonl", output="b.jsonl").limits == DEFAULT_LIMITS
    monkeypatch.setenv("CLAIMSTANCE_MAX_TEXT_CHARS", "0")
    with pytest.raises(SettingsError, match="CLAIMSTANCE_MAX_TEXT_CHARS='0'"):
        ServiceSettings.from_env()
    with pytest.raises(JobInputError, match="--max_text_chars 0"):
        BatchConfig(input="a.jsonl", output="b.jsonl", max_text_chars=0)
