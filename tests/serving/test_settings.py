import pytest

from serving.settings import ServiceSettings


def test_defaults_without_variables():
    settings = ServiceSettings.from_env({})
    assert settings == ServiceSettings()
    assert settings.model == "claimstance:latest"


def test_each_field_is_read_from_its_variable_with_its_type():
    settings = ServiceSettings.from_env(
        {
            "CLAIMSTANCE_MODEL": "claimstance:abc",
            "CLAIMSTANCE_MAX_PAIRS": "8",
            "CLAIMSTANCE_BATCH_WAIT_MS": "2.5",
            "CLAIMSTANCE_ACCESS_LOG": "true",
            "UNRELATED": "x",
        }
    )
    assert (settings.model, settings.max_pairs, settings.batch_wait_ms, settings.access_log) == (
        "claimstance:abc",
        8,
        2.5,
        True,
    )


def test_a_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="CLAIMSTANCE_MAX_PAIRS='many' is not a valid int"):
        ServiceSettings.from_env({"CLAIMSTANCE_MAX_PAIRS": "many"})


def test_threads_split_between_workers_and_lanes():
    assert ServiceSettings(threads=4, lanes=2).threads_per_lane == 2
    assert ServiceSettings(threads=1, lanes=2).threads_per_lane == 1
    assert ServiceSettings(threads=6, workers=3).threads_per_worker == 6
