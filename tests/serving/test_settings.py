import pytest

from serving.settings import ServiceSettings, SettingsError


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Set CLAIMSTANCE_* variables for one test, none of the caller's left over."""
    for name in ServiceSettings.model_fields:
        monkeypatch.delenv(f"CLAIMSTANCE_{name.upper()}", raising=False)

    def set_variables(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_variables


def test_defaults_without_variables(environment):
    settings = ServiceSettings.from_env()
    assert settings == ServiceSettings()
    assert settings.model == "claimstance:latest"


def test_each_field_is_read_from_its_variable_with_its_type(environment):
    environment(
        CLAIMSTANCE_MODEL="claimstance:abc",
        CLAIMSTANCE_MAX_PAIRS="8",
        CLAIMSTANCE_BATCH_WAIT_MS="2.5",
        CLAIMSTANCE_ACCESS_LOG="true",
        UNRELATED="x",
    )
    settings = ServiceSettings.from_env()
    assert (settings.model, settings.max_pairs, settings.batch_wait_ms, settings.access_log) == (
        "claimstance:abc",
        8,
        2.5,
        True,
    )


def test_a_bad_value_names_the_variable(environment):
    environment(CLAIMSTANCE_MAX_PAIRS="many")
    with pytest.raises(SettingsError, match="CLAIMSTANCE_MAX_PAIRS='many': Input should be a valid integer"):
        ServiceSettings.from_env()


@pytest.mark.parametrize("name", ["CLAIMSTANCE_LANES", "CLAIMSTANCE_WORKERS", "CLAIMSTANCE_MAX_LARGE_BODIES"])
def test_a_count_that_would_crash_a_worker_is_refused_by_name(environment, name):
    environment(**{name: "0"})
    with pytest.raises(SettingsError, match=f"{name}='0': Input should be greater than or equal to 1"):
        ServiceSettings.from_env()


def test_a_mistyped_boolean_is_refused_not_read_as_false(environment):
    environment(CLAIMSTANCE_ACCESS_LOG="ture")
    with pytest.raises(SettingsError, match="CLAIMSTANCE_ACCESS_LOG='ture': Input should be a valid boolean"):
        ServiceSettings.from_env()


def test_every_problem_is_named_at_once(environment):
    environment(CLAIMSTANCE_LANES="0", CLAIMSTANCE_RUNTIME="gpu")
    with pytest.raises(
        SettingsError, match="CLAIMSTANCE_RUNTIME='gpu'.*CLAIMSTANCE_LANES='0'|LANES='0'.*RUNTIME='gpu'"
    ):
        ServiceSettings.from_env()


def test_threads_split_between_workers_and_lanes():
    assert ServiceSettings(threads=4, lanes=2).threads_per_lane == 2
    assert ServiceSettings(threads=1, lanes=2).threads_per_lane == 1
    assert ServiceSettings(threads=6, workers=3).threads_per_worker == 6


def test_the_monitors_settings_and_its_nested_matching_names(environment):
    environment(
        CLAIMSTANCE_MONITOR="false",
        CLAIMSTANCE_DATABASE_URL="postgresql+psycopg://u:p@db/monitor",
        CLAIMSTANCE_MATCH__THRESHOLD="0.5",
        CLAIMSTANCE_MATCH__TOP_K="7",
    )
    settings = ServiceSettings.from_env()
    assert (settings.monitor, settings.database_url) == (False, "postgresql+psycopg://u:p@db/monitor")
    assert (settings.match.threshold, settings.match.top_k) == (0.5, 7)
    environment(CLAIMSTANCE_MATCH__TOP_K="0")
    with pytest.raises(SettingsError, match="CLAIMSTANCE_MATCH__TOP_K='0': Input should be greater than or equal to 1"):
        ServiceSettings.from_env()
