"""docs/settings.md, written from the service's settings class, so that the reference cannot drift from the code.

`python -m serving.settings_reference` (or `make docs`) writes it; a test fails when the file and the class differ.
Each variable's text is its field's docstring in serving/settings.py (and the classes it inherits from).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from serving.monitor.database import ENV_PREFIX
from serving.settings import FORMER_NAMES, ServiceSettings

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
HEADER = """# Settings

The service, `claimstance monitor` and `claimstance rescore` read these environment variables. A value the service
cannot run with, or a `CLAIMSTANCE_*` variable that names no setting, stops it at start-up with the variable named.
Nested settings take `__` (`CLAIMSTANCE_MATCH__TOP_K=5`). This page is generated from `serving/settings.py`
(`make docs`).

| variable | default | allowed | what it sets |
|---|---|---|---|
"""
SECRET_DEFAULTS = {"api_keys"}


def bounds(info: FieldInfo) -> str:
    """A field's constraints as a reader writes them (`≥ 1`, `auto, onnx or torch`)."""
    words = []
    for rule in info.metadata:
        for name, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if (value := getattr(rule, name, None)) is not None:
                words.append(f"{sign} {value}")
        if (pattern := getattr(rule, "pattern", None)) is not None:
            words.append(pattern.strip("^$").strip("()").replace("|", ", "))
        if (length := getattr(rule, "min_length", None)) is not None:
            words.append(f"at least {length} character(s)")
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, bool):
        words.append("true or false")
    members = getattr(annotation, "__members__", None)
    if members:
        words.append(", ".join(f"`{member.value}`" for member in members.values()))
    return "; ".join(words)


def default_of(name: str, info: FieldInfo) -> str:
    if name in SECRET_DEFAULTS:
        return "none"
    if info.default_factory is not None:
        return "(computed)"
    value: Any = info.default
    if value is PydanticUndefined:
        return "required"
    value = getattr(value, "value", value)
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`" if value not in ("", None) else "empty"


def one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def rows(model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for name, info in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            lines += rows(nested, f"{variable}__")
            continue
        lines.append(f"| `{variable}` | {default_of(name, info)} | {bounds(info)} | {one_line(info.description)} |")
    return lines


def reference() -> str:
    former = "\n".join(
        f"- `{old}` is the former name of `{ENV_PREFIX}{new.upper()}`, still read where the new one is not set."
        for old, new in FORMER_NAMES.items()
    )
    return HEADER + "\n".join(rows(ServiceSettings, ENV_PREFIX)) + f"\n\n## Former names\n\n{former}\n"


def main() -> None:
    REFERENCE.write_text(reference())
    print(f"wrote {REFERENCE}", file=sys.stderr)


if __name__ == "__main__":
    main()
