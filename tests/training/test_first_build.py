import time

import pytest

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.registry import find
from tests.conftest import build_tiny_embedder
from tests.training.test_train import tiny_config
from training import first_build as build
from training.budget import REFERENCE_TOKENS_PER_SECOND


@pytest.fixture
def tiny_build(synthetic_corpus, tiny_base_model_dir, tmp_path, monkeypatch, bento_store):
    """The first build on the tiny base model and the synthetic corpus, into an empty model store."""
    monkeypatch.chdir(tmp_path)
    config = tiny_config(synthetic_corpus, tiny_base_model_dir, tmp_path / "model", register=True, export_onnx=True)
    monkeypatch.setattr(build, "parse_config", lambda args: config)
    speed = 4 * REFERENCE_TOKENS_PER_SECOND
    monkeypatch.setattr(build, "measured_tokens_per_second", lambda train_config: speed)
    monkeypatch.setattr(
        build,
        "build_embedder",
        lambda embedder_config: build_tiny_embedder(tiny_base_model_dir, tmp_path / "embedder"),
    )
    return config, speed


def test_an_empty_store_gets_both_models_with_the_time_said_first(tiny_build, capsys):
    config, speed = tiny_build
    built = build.first_build(build.FirstBuildConfig(data_dir=config.data_dir))
    assert built == ["data", "training", "export", "embedder"]
    assert find(f"{MODEL_NAME}:latest") and find(f"{EMBEDDER_NAME}:latest")
    said = capsys.readouterr().err
    size = build.recipe_size(config)
    announced = said.index("The build takes about")
    assert said.index("Measuring this machine first") < announced < said.index("Built in")
    assert f"{size.pairs:,} pairs" in said and f"trains {speed:,.0f} tokens/s" in said
    assert "make serve MODEL_ARCHIVE=" in said[announced:].splitlines()[0]
    assert build.first_build(build.FirstBuildConfig(data_dir=config.data_dir)) == []  # built: nothing more


def test_the_estimate_scales_the_reference_times_by_the_measured_speed(tiny_build):
    config, speed = tiny_build
    size = build.recipe_size(config)
    stages = {stage.name: stage.seconds for stage in build.stages_of(12.0, size, speed, need_embedder=True)}
    slower = REFERENCE_TOKENS_PER_SECOND / speed
    assert stages == pytest.approx({
        "data": 12.0,
        "training": size.minutes(speed) * 60,
        "export": build.REFERENCE_EXPORT_MINUTES * 60 * slower,
        "embedder": build.REFERENCE_EMBEDDER_MINUTES * 60 * slower,
    })  # fmt: skip
    assert [stage.name for stage in build.stages_of(0.0, None, speed, need_embedder=True)] == ["embedder"]


def test_the_bar_follows_training_steps_and_ends_full():
    progress = build.BuildProgress([build.Stage("data", 10), build.Stage("training", 100), build.Stage("export", 10)])
    try:
        progress.done("data")
        progress.within(0.5)
        assert progress.bar.n == 60
        progress.done("training")
        progress.done("export")
        assert progress.bar.n == progress.bar.total == 120
        time.sleep(1.2)  # a tick past the last stage
        assert progress.ticker.is_alive()
    finally:
        progress.close()
