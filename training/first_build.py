"""The models a fresh machine needs before `make serve` can answer, built where the model store lacks them, saying
first what will happen and about how long it takes here.

The estimate is computed, not guessed: the recipe's size in tokens (training/budget.py) over this machine's training
speed, timed on a few steps of the base model; the export, the runtime choice and the embedder scale from their
reference-machine times by the same speed ratio. One progress bar then follows the whole build (data, training,
export, embedder) against that estimate, and the last line names the archive route that skips all of it next time.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm
from transformers import TrainerCallback

from models.command import Command, exit_with
from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.registry import holds, register
from models.runtime import cpu_info
from training.budget import REFERENCE_TOKENS_PER_SECOND, TrainingSize, measured_tokens_per_second, recipe_size
from training.config import data_dir_field, parse_config
from training.embedder import EmbedderConfig, build_embedder
from training.train import train

REFERENCE_EXPORT_MINUTES = 4.0
"""The int8 export, its check on validation and the runtime choice, on the reference machine (2 cores of an AMD
EPYC), measured in a fresh clone's first `make serve`."""
REFERENCE_EMBEDDER_MINUTES = 1.0
"""The embedder's export and check there (under a minute)."""
ARCHIVE_HINT = (
    "Next time, or on another machine, skip the build: `make export-model MODEL_ARCHIVE=<folder or s3://...>` here, "
    "then `make serve MODEL_ARCHIVE=<the same>` there (docs/operations.md)."
)


@dataclass
class FirstBuildConfig:
    recipe: str = field(default="default", metadata={"help": "Training recipe of the stance model."})
    data_dir: str = data_dir_field()
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag the service serves."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Model-store tag of the embedder."})


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float


class BuildProgress:
    """One bar over the estimated seconds of every stage. Inside a stage the bar moves with the clock, up to just
    short of the stage's estimate, or with training's steps; a stage done puts it at the stage's end."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.bar = tqdm(total=round(sum(s.seconds for s in stages)), unit="s", desc="building", dynamic_ncols=True)
        self.index, self.started = 0, time.monotonic()
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.ticker = threading.Thread(target=self.tick, daemon=True)
        self.ticker.start()

    def offset(self, index: int) -> float:
        """Where stage `index` begins on the bar."""
        return sum(stage.seconds for stage in self.stages[:index])

    def move_to(self, position: float) -> None:
        with self.lock:
            position = min(position, self.bar.total)
            if position > self.bar.n:
                self.bar.update(round(position) - self.bar.n)

    def tick(self) -> None:
        while not self.stop.wait(1.0):
            index, started = self.index, self.started
            if index < len(self.stages):  # past the last stage: the bar is full, nothing left to move
                self.move_to(self.offset(index) + min(time.monotonic() - started, 0.99 * self.stages[index].seconds))

    def within(self, fraction: float) -> None:
        index = self.index
        self.move_to(self.offset(index) + fraction * self.stages[index].seconds)

    def done(self, name: str) -> None:
        """`name` ended: the bar at its end, the next stage's clock started."""
        self.index = next(i for i, stage in enumerate(self.stages) if stage.name == name) + 1
        self.started = time.monotonic()
        self.bar.set_postfix_str(self.stages[self.index].name if self.index < len(self.stages) else "done")
        self.move_to(self.offset(self.index))

    def close(self) -> None:
        self.stop.set()
        self.bar.close()


class TrainingSteps(TrainerCallback):
    """Training's share of the bar, by optimizer steps: the data is ready when it begins, the export follows its end."""

    def __init__(self, progress: BuildProgress) -> None:
        self.progress = progress

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress.done("data")

    def on_step_end(self, args, state, control, **kwargs):
        if state.max_steps:
            self.progress.within(state.global_step / state.max_steps)

    def on_train_end(self, args, state, control, **kwargs):
        self.progress.done("training")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def stages_of(data_seconds: float, size: TrainingSize | None, speed: float, need_embedder: bool) -> list[Stage]:
    """The build's stages and their estimated seconds on a machine that trains `speed` tokens a second: `size` is
    the recipe's (None: the stance model is in the store), `data_seconds` what its data took to prepare here."""
    slower = REFERENCE_TOKENS_PER_SECOND / speed
    stages = []
    if size is not None:
        stages += [
            Stage("data", data_seconds),
            Stage("training", size.minutes(speed) * 60),
            Stage("export", REFERENCE_EXPORT_MINUTES * 60 * slower),
        ]
    if need_embedder:
        stages.append(Stage("embedder", REFERENCE_EMBEDDER_MINUTES * 60 * slower))
    return stages


def first_build(config: FirstBuildConfig) -> list[str]:
    """Build what the store lacks (the stance model, the embedder); the stages built."""
    need_model, need_embedder = not holds(config.model), not holds(config.embedder)
    if not (need_model or need_embedder):
        say(f"{config.model} and {config.embedder} are in the model store: nothing to build")
        return []
    train_config, size, data_seconds, speed = None, None, 0.0, REFERENCE_TOKENS_PER_SECOND
    if need_model:
        say(f"No {config.model} in the model store: training one on the {config.recipe} recipe. "
            "Measuring this machine first, to say how long that takes…")  # fmt: skip
        train_config = parse_config(["--recipe", config.recipe, "--data_dir", config.data_dir])
        started = time.monotonic()
        size = recipe_size(train_config)
        data_seconds = time.monotonic() - started
        speed = measured_tokens_per_second(train_config)
        say(f"{size.pairs:,} pairs, {size.epochs:g} epochs, {size.tokens:,} training tokens; this machine "
            f"({cpu_info()[0]}) trains {speed:,.0f} tokens/s.")  # fmt: skip
    stages = stages_of(data_seconds, size, speed, need_embedder)
    total = sum(stage.seconds for stage in stages) / 60
    parts = ", ".join(f"{stage.name} {stage.seconds / 60:.0f}" for stage in stages)
    say(f"The build takes about {total:.0f} minutes here ({parts}). {ARCHIVE_HINT}")
    started = time.monotonic()
    progress = BuildProgress(stages)
    try:
        if train_config is not None:
            train_config.register = True
            train(train_config, callbacks=[TrainingSteps(progress)])
            progress.done("export")
        if need_embedder:
            register(build_embedder(EmbedderConfig(output_dir=str(Path("artifacts") / "embedder"))), EMBEDDER_NAME)
            progress.done("embedder")
    finally:
        progress.close()
    say(f"Built in {(time.monotonic() - started) / 60:.0f} minutes (announced: {total:.0f}). {ARCHIVE_HINT}")
    return [stage.name for stage in stages]


COMMAND = Command(
    "claimstance build",
    "The models the service needs, built where the model store lacks them: says first how long it takes here.",
    "claimstance build --recipe default",
    FirstBuildConfig,
    first_build,
)


if __name__ == "__main__":
    exit_with(COMMAND)
