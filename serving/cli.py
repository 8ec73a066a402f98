"""`claimstance`: the project's one command, a subcommand per job (`claimstance --help` lists them).

Each subcommand hands its process to the module that does the job (`python -m <module> <flags>`), so its flags,
`--help` (each flag with its default, and an example) and exit status are that module's own: 0 done, 2 bad input
(named), 130 interrupted. It starts the module rather than importing it: serving never imports training, and a
command loads only what its job needs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class Job:
    module: str
    about: str
    args: tuple[str, ...] = ()
    """Given to the module before the user's flags (which of its commands)."""


JOBS = {
    "serve": Job("serving.serve", "Start the HTTP service on the model store's model."),
    "score": Job("serving.batch", "Score a file of (claim, text) rows, locally or on Spark, resumable."),
    "track": Job("serving.batch.track", "One claim across many documents, from a file: rows and each claim's summary."),
    "monitor": Job(
        "serving.monitor.ingest_file", "Check a file of documents against every watched claim, and store them."
    ),
    "rescore": Job("serving.monitor.rescore", "Answer the monitor's stored pairs again with another model."),
    "build": Job(
        "training.first_build", "The models the service needs, built where the store lacks them (says how long first)."
    ),
    "train": Job("training.train", "Fine-tune the stance model on a recipe, export it and register it."),
    "export": Job("training.export", "Export a trained model to int8 ONNX, choose its runtime, register it."),
    "evaluate": Job("eval.evaluate", "Score a model and the baselines on the test sets (or validation)."),
    "export-model": Job(
        "serving.model_archive", "Write the stance model and the embedder as BentoML model archives.", ("export",)
    ),
    "import-model": Job(
        "serving.model_archive", "Put model archives into this machine's model store, instead of training.", ("import",)
    ),
}
BENCHMARKS = {
    "serve": Job("eval.speed.bench_serve", "The HTTP service under load, against a naive server."),
    "model": Job("eval.speed.bench_model", "The model alone: pairs/s by runtime, batch size and threads."),
    "batch": Job("eval.speed.bench_batch", "The batch job: rows/s of each engine on headlines and bodies."),
    "track": Job("eval.speed.bench_track", "The claim tracker: /track calls and the batch job's --track."),
    "matching": Job("eval.speed.bench_matching", "Matching one document against up to 100,000 watched claims."),
    "monitor": Job("eval.speed.bench_monitor", "The monitor's file job against batch scoring."),
}
PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
"""Every flag, `--help` included, is the module's to read."""


def run_module(module: str, args: tuple[str, ...]) -> None:
    """This process becomes `python -m module args`: its output, signals and exit status are the job's."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", module, *args])


def subcommand(name: str, job: Job) -> click.Command:
    @click.command(name, help=job.about, short_help=job.about, context_settings=PASS_THROUGH, add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def start(args: tuple[str, ...]) -> None:
        run_module(job.module, (*job.args, *args))

    return start


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """claimstance: stance of texts toward claims (asserting, disputing, reporting, unrelated), served over HTTP,
    scored in batch, tracked across sources and monitored. `claimstance <command> --help` lists a command's flags."""


@main.group()
def bench() -> None:
    """Benchmarks: each writes its report (Markdown and JSON) naming the machine it ran on."""


for _name, _job in JOBS.items():
    main.add_command(subcommand(_name, _job))
for _name, _job in BENCHMARKS.items():
    bench.add_command(subcommand(_name, _job))


if __name__ == "__main__":
    main()
