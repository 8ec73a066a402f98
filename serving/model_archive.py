"""Models that travel: the served stance model and the claim monitor's embedder as BentoML model archives.

`claimstance export-model --output DIR` writes `DIR/claimstance.bentomodel` and `DIR/claimstance-embedder.bentomodel`
from the local model store; `claimstance import-model --input DIR` (or `make serve MODEL_ARCHIVE=DIR`) puts them into
another machine's store, so a team trains once on a large machine and serves anywhere. DIR is a folder or an fsspec
URL (`s3://bucket/claimstance`), as `bentoml models export` and `import` take; the archive is BentoML's own format,
written and read through its public `bentoml.models.export_model` and `import_model`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import bentoml
from bentoml.exceptions import BentoMLException

from models.command import Command, exit_with, first_paragraph
from models.defaults import EMBEDDER_NAME, MODEL_NAME

ARCHIVE_SUFFIX = ".bentomodel"
ARCHIVED_MODELS = (MODEL_NAME, EMBEDDER_NAME)
"""What an archive folder holds, one file each, named after the model: the stance model and the embedder."""


class ArchiveError(ValueError):
    """An archive that is missing, unreadable or not a BentoML model; the message names the file."""


def archive_path(folder: str, name: str) -> str:
    """The archive file of model `name` in `folder` (a path or a URL)."""
    return f"{folder.rstrip('/')}/{name}{ARCHIVE_SUFFIX}"


def is_local(location: str) -> bool:
    return "://" not in location


@dataclass
class ExportModelConfig:
    output: str = field(metadata={"help": "Folder or fsspec URL (s3://bucket/path) the archives are written to."})
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag of the stance model."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Model-store tag of the embedder."})


@dataclass
class ImportModelConfig:
    input: str = field(metadata={"help": "Folder or fsspec URL that export-model wrote the archives to."})


def export_models(config: ExportModelConfig) -> list[str]:
    """Each model written as one archive file; the paths written."""
    if is_local(config.output):
        Path(config.output).mkdir(parents=True, exist_ok=True)
    written = []
    for name, tag in ((MODEL_NAME, config.model), (EMBEDDER_NAME, config.embedder)):
        target = archive_path(config.output, name)
        try:
            stored = bentoml.models.get(tag)
        except BentoMLException as error:
            raise ArchiveError(f"{tag}: not in the model store; build it first (make model, make embedder)") from error
        written.append(bentoml.models.export_model(stored.tag, target))
        print(f"{stored.tag} -> {target}", file=sys.stderr)
    return written


def import_models(config: ImportModelConfig) -> list[str]:
    """Each archive of the folder put into the local model store (one already there is kept); the tags."""
    tags = []
    for name in ARCHIVED_MODELS:
        source = archive_path(config.input, name)
        if is_local(source) and not Path(source).is_file():
            raise ArchiveError(f"{source}: no such archive (claimstance export-model writes one)")
        try:
            imported = bentoml.models.import_model(source)
        except BentoMLException as error:
            # BentoML has no error class of its own for a tag the store holds: its message says so.
            if "already exists" not in str(error):
                raise ArchiveError(f"{source}: not a readable BentoML model archive ({error})") from None
            print(f"{source}: already in the model store", file=sys.stderr)
            continue
        except Exception as error:  # a truncated or foreign file fails inside tar or fsspec, not BentoML
            raise ArchiveError(f"{source}: not a readable BentoML model archive ({error})") from None
        tags.append(str(imported.tag))
        print(f"{source} -> {imported.tag}", file=sys.stderr)
    return tags


EXPORT_COMMAND = Command(
    "claimstance export-model",
    "Write the served stance model and the embedder as BentoML model archives, to serve them elsewhere.",
    "claimstance export-model --output archives/",
    ExportModelConfig,
    export_models,
    describe=lambda config, written: f"{len(written)} archives written to {config.output}",
    refused=(ArchiveError,),
)
IMPORT_COMMAND = Command(
    "claimstance import-model",
    "Put archives that export-model wrote into this machine's model store, instead of training.",
    "claimstance import-model --input archives/",
    ImportModelConfig,
    import_models,
    describe=lambda config, tags: f"{len(tags)} model(s) imported from {config.input}",
    refused=(ArchiveError,),
)
COMMANDS = {"export": EXPORT_COMMAND, "import": IMPORT_COMMAND}


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python -m serving.model_archive {{{','.join(COMMANDS)}}} [flags]; {first_paragraph(__doc__)}")
    exit_with(COMMANDS[sys.argv.pop(1)])
