"""The BentoML model store: training registers a saved folder, serving finds it by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bentoml
from bentoml.exceptions import BentoMLException, NotFound

from models.defaults import MODEL_NAME
from models.model_config import ModelLoadError
from models.training_record import TRAINING_INFO_FILE


def register(model_dir: Path, name: str = MODEL_NAME) -> str:
    """Copy a saved model folder into the store as `name:<new version>` and return the tag."""
    model_dir = Path(model_dir)
    info_file = model_dir / TRAINING_INFO_FILE
    metadata = json.loads(info_file.read_text()) if info_file.exists() else {}
    with bentoml.models.create(name, metadata=metadata, labels={"task": "claim-stance"}) as stored:
        shutil.copytree(model_dir, stored.path, dirs_exist_ok=True)
    return str(stored.tag)


def find(tag: str = f"{MODEL_NAME}:latest") -> tuple[Path, str]:
    """Folder and full tag of a stored model; bentoml.exceptions.NotFound when there is none."""
    try:
        stored = bentoml.models.get(tag)
    except BentoMLException as error:
        if isinstance(error, NotFound):
            raise
        raise ModelLoadError(f"{tag!r} is neither a model folder nor a model-store tag (name:version)") from None
    return Path(stored.path), str(stored.tag)


def holds(tag: str) -> bool:
    """Whether the store has a model under `tag` (an unparsable tag is still an error, not a no)."""
    try:
        find(tag)
    except NotFound:
        return False
    return True


def locate(model: str) -> tuple[Path, str]:
    """The folder of a model given as a path on disk or a model-store tag, and the name its answers carry:
    the full tag (name:version) for a stored model, the folder path for one on disk."""
    path = Path(model)
    if path.is_dir():
        return path, str(path)
    if "/" in model or model.startswith("."):
        raise ModelLoadError(f"{model}: no such model folder")
    return find(model if ":" in model else f"{model}:latest")


def resolve(model: str) -> Path:
    """A model folder from either a path on disk or a model-store tag."""
    return locate(model)[0]


def main() -> None:
    """`python -m models.registry TAG`: exit 0 if the store holds TAG, 1 if not (for `make serve`)."""
    import sys

    tag = sys.argv[1] if len(sys.argv) > 1 else f"{MODEL_NAME}:latest"
    try:
        print(find(tag)[1])
    except NotFound:
        print(f"{tag} is not in the BentoML model store", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
