"""Start the HTTP service on the model store's model: `claimstance serve` (or `make serve`, which builds the models
first where the store has none).

Every other setting is a CLAIMSTANCE_* variable (docs/settings.md); this command names the model and where to listen,
checks that the store holds the models, and hands over to `bentoml serve`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from models.command import Command, exit_with, first_paragraph
from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.registry import holds

SERVICE = "serving.service:Claimstance"


class MissingModel(LookupError):
    """A model the service would load is not in the model store."""


@dataclass
class ServeConfig:
    host: str = field(
        default="127.0.0.1",
        metadata={"help": "Where to listen: this machine only, unless told (0.0.0.0: every interface; set API keys "
                  "first: docs/operations.md)."},
    )  # fmt: skip
    port: int = field(default=3000, metadata={"help": "The port."})
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag of the stance model."})
    embedder: str = field(
        default=f"{EMBEDDER_NAME}:latest",
        metadata={"help": "Model-store tag of the claim monitor's embedder (unused with CLAIMSTANCE_MONITOR=false)."},
    )


def monitor_on() -> bool:
    return os.environ.get("CLAIMSTANCE_MONITOR", "true").strip().lower() not in ("false", "0", "no", "off")


def checked(tag: str, builds_it: str) -> None:
    if not holds(tag):
        raise MissingModel(f"{tag} is not in the model store: {builds_it} builds it")


def serve(config: ServeConfig) -> None:
    """Hands this process over to `bentoml serve` (it never returns): its exit status is the service's."""
    checked(config.model, "make model (or claimstance train)")
    if monitor_on():
        checked(config.embedder, "make embedder")
    os.environ.update(
        CLAIMSTANCE_MODEL=config.model, CLAIMSTANCE_EMBEDDER=config.embedder, CLAIMSTANCE_HOST=config.host
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # a worker's threads come from its settings
    command = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", config.host, "--port", str(config.port)]
    os.execv(sys.executable, command)


COMMAND = Command(
    "claimstance serve",
    first_paragraph(__doc__),
    "claimstance serve --port 3000",
    ServeConfig,
    serve,
    refused=(MissingModel,),
)


if __name__ == "__main__":
    exit_with(COMMAND)
