import pytest

from serving.monitor.matching import DocumentCut
from serving.settings import FORMER_NAMES, ServiceSettings, SettingsError


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Set CLAIMSTANCE_* variables for one test, none of the caller's left over."""
    for name in ServiceSettings.model_fields:
        monkeypatch.delenv(f"CLAIMSTANCE_{name.upper()}", raising=False)
    for former in FORMER_NAMES:
        monkeypatch.delenv(former, raising=False)

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


@pytest.mark.parametrize("name", ["CLAIMSTANCE_MODEL_COPIES", "CLAIMSTANCE_WORKERS", "CLAIMSTANCE_MAX_LARGE_BODIES"])
def test_a_count_that_would_crash_a_worker_is_refused_by_name(environment, name):
    environment(**{name: "0"})
    with pytest.raises(SettingsError, match=f"{name}='0': Input should be greater than or equal to 1"):
        ServiceSettings.from_env()


def test_a_mistyped_boolean_is_refused_not_read_as_false(environment):
    environment(CLAIMSTANCE_ACCESS_LOG="ture")
    with pytest.raises(SettingsError, match="CLAIMSTANCE_ACCESS_LOG='ture': Input should be a valid boolean"):
        ServiceSettings.from_env()


def test_every_problem_is_named_at_once(environment):
    environment(CLAIMSTANCE_MODEL_COPIES="0", CLAIMSTANCE_RUNTIME="gpu")
    with pytest.raises(
        SettingsError, match="CLAIMSTANCE_RUNTIME='gpu'.*CLAIMSTANCE_MODEL_COPIES='0'|COPIES='0'.*RUNTIME='gpu'"
    ):
        ServiceSettings.from_env()


def test_threads_split_between_workers_and_model_copies():
    assert ServiceSettings(threads=4, model_copies=2).threads_per_copy == 2
    assert ServiceSettings(threads=1, model_copies=2).threads_per_copy == 1
    assert ServiceSettings(threads=6, workers=3).threads_per_worker == 6


def test_a_former_name_still_sets_its_setting_unless_the_new_one_is_set(environment, caplog):
    environment(CLAIMSTANCE_LANES="3")
    assert ServiceSettings.from_env().model_copies == 3
    assert "CLAIMSTANCE_LANES is deprecated: set CLAIMSTANCE_MODEL_COPIES instead" in caplog.text
    environment(CLAIMSTANCE_LANES="3", CLAIMSTANCE_MODEL_COPIES="1")
    assert ServiceSettings.from_env().model_copies == 1
    environment(CLAIMSTANCE_MATCH__READING="sentences", CLAIMSTANCE_MATCH__TOP_K="7")
    match = ServiceSettings.from_env().match
    assert match.cut is DocumentCut.SENTENCES and match.top_k == 7


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


def test_a_variable_that_is_no_setting_stops_start_up_naming_the_nearest(environment):
    environment(CLAIMSTANCE_MAX_PAIR="8", CLAIMSTANCE_MATCH__TRESHOLD="0.5")
    with pytest.raises(SettingsError) as refused:
        ServiceSettings.from_env()
    message = str(refused.value)
    assert "CLAIMSTANCE_MAX_PAIR: no such setting (did you mean CLAIMSTANCE_MAX_PAIRS?)" in message
    assert "CLAIMSTANCE_MATCH__TRESHOLD: no such setting (did you mean CLAIMSTANCE_MATCH__THRESHOLD?)" in message


def test_a_relative_sqlite_path_lives_in_the_data_folder_outside_the_working_directory(environment, tmp_path):
    environment(CLAIMSTANCE_DATA_DIR=str(tmp_path / "desk"))
    settings = ServiceSettings.from_env()
    assert settings.url.database == str(tmp_path / "desk" / "monitor.sqlite3")  # the default file, under it
    environment(CLAIMSTANCE_DATABASE_URL="sqlite:///archive/monitor.sqlite3")
    assert ServiceSettings.from_env().url.database == str(tmp_path / "desk" / "archive" / "monitor.sqlite3")
    environment(CLAIMSTANCE_DATABASE_URL=f"sqlite:///{tmp_path}/elsewhere.sqlite3")
    assert ServiceSettings.from_env().url.database == f"{tmp_path}/elsewhere.sqlite3"


def test_the_default_data_folder_is_absolute_whatever_folder_the_service_runs_in(environment, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    database = ServiceSettings.from_env().url.database
    assert database.startswith("/") and not database.startswith(str(tmp_path)) and "claimstance" in database


def test_ids_and_dates_may_not_outgrow_the_monitors_columns(environment):
    environment(CLAIMSTANCE_MAX_ID_CHARS="300")
    with pytest.raises(
        SettingsError, match="CLAIMSTANCE_MAX_ID_CHARS='300': Input should be less than or equal to 256"
    ):
        ServiceSettings.from_env()


def test_api_keys_come_from_the_environment_or_a_file_and_a_bad_file_stops_start_up(environment, tmp_path):
    secret = "s" * 20
    environment(CLAIMSTANCE_API_KEYS=f'[{{"name": "desk", "scope": "read", "key": "{secret}"}}]')
    assert ServiceSettings.from_env().key_ring.find(secret).name == "desk"
    (tmp_path / "keys.json").write_text('[{"name": "editor", "scope": "admin", "key": "' + "e" * 20 + '"}]')
    environment(CLAIMSTANCE_API_KEYS_FILE=str(tmp_path / "keys.json"))
    assert [key.name for key in ServiceSettings.from_env().key_ring.keys] == ["desk", "editor"]
    environment(CLAIMSTANCE_API_KEYS_FILE=str(tmp_path / "none.json"))
    with pytest.raises(SettingsError, match="CLAIMSTANCE_API_KEYS_FILE=.*cannot read it"):
        ServiceSettings.from_env()


def test_the_service_listens_on_this_machine_unless_told(environment):
    assert not ServiceSettings.from_env().listens_beyond_this_machine
    environment(CLAIMSTANCE_HOST="0.0.0.0")
    assert ServiceSettings.from_env().listens_beyond_this_machine


def test_a_bad_key_is_named_by_its_place_never_by_its_secret(environment):
    environment(CLAIMSTANCE_API_KEYS='[{"name": "desk", "scope": "root", "key": "a-secret-of-twenty-chars"}]')
    with pytest.raises(SettingsError) as refused:
        ServiceSettings.from_env()
    assert "CLAIMSTANCE_API_KEYS, at 0.scope" in str(refused.value) and "a-secret" not in str(refused.value)
