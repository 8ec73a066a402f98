"""The README, docs/ and reports/RESULTS.md against the code: links, make targets, commands, settings and examples.

Each check reads the Markdown as a reader meets it; a page that names a target, a command or a variable that does not
exist, or links to a heading that is gone, fails here instead of in a user's terminal. The request examples are checked
against the service's own OpenAPI document in tests/serving/test_schemathesis.py (it needs a running service).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.cli import BENCHMARKS, JOBS
from serving.settings import known_variables
from serving.settings_reference import REFERENCE, reference

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "reports" / "RESULTS.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
CODE_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CURL_BODY = re.compile(r"curl [^\n]*?https?://[^/\s]+(/[\w/.-]*)[^\n]*? -d '([^']*)'")
"""A request example as the docs write it: one line, `curl … http://host/<route> … -d '<json body>'`."""


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor, a repeated one numbered as GitHub numbers it."""
    seen: dict[str, int] = {}
    found = set()
    for line in CODE_FENCE.sub("", page.read_text()).splitlines():
        if match := re.match(r"#{1,6} (.+)", line):
            base = slug(match.group(1))
            count = seen.get(base, 0)
            found.add(base if count == 0 else f"{base}-{count}")
            seen[base] = count + 1
    return found


def prose(page: Path) -> str:
    """The page without its code blocks: what links and names a reader follows."""
    return CODE_FENCE.sub("", page.read_text())


def links(page: Path) -> Iterator[str]:
    for match in LINK.finditer(prose(page)):
        yield match.group(1) or match.group(2)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: another site's business
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


def code(page: Path) -> str:
    """The page's code, fenced and inline: where it names commands a reader types."""
    text = page.read_text()
    return "\n".join(CODE_FENCE.findall(text) + re.findall(r"`([^`\n]+)`", CODE_FENCE.sub("", text)))


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-zA-Z][\w-]*):", text, re.MULTILINE))


def test_every_make_target_named_exists():
    targets = make_targets()
    named = {(page_id(page), name) for page in PAGES for name in re.findall(r"\bmake ([a-z][\w-]*)", code(page))}
    assert {(page, name) for page, name in named if name not in targets} == set()


def test_every_claimstance_subcommand_named_exists():
    commands = set(JOBS) | {"bench", "export-model", "import-model"}
    pattern = r"\bclaimstance (?:bench )?([a-z][\w-]*)"
    named = {(page_id(page), name) for page in PAGES for name in re.findall(pattern, code(page))}
    benchmarks = {name for page in PAGES for name in re.findall(r"\bclaimstance bench ([a-z][\w-]*)", code(page))}
    assert {(page, name) for page, name in named if name not in commands | benchmarks} == set()
    assert benchmarks <= set(BENCHMARKS)


def test_every_variable_named_exists_and_every_setting_is_documented():
    known = known_variables()
    named = {
        (page_id(page), name)
        for page in PAGES
        for name in re.findall(r"\bCLAIMSTANCE_[A-Z0-9_]*[A-Z0-9]", page.read_text())
    }
    assert {(page, name) for page, name in named if name not in known} == set()
    documented = set(re.findall(r"`(CLAIMSTANCE_[A-Z0-9_]+)`", REFERENCE.read_text()))
    leaves = {name for name in known if not any(other.startswith(f"{name}__") for other in known)}
    assert leaves <= documented


def test_the_settings_reference_is_what_the_settings_class_writes():
    assert REFERENCE.read_text() == reference(), "run make docs"


def request_examples() -> list[tuple[str, str, str]]:
    """(page, route, body) of every request example in the docs and the README."""
    return [(page_id(page), route, body) for page in PAGES for route, body in CURL_BODY.findall(page.read_text())]


def test_the_docs_show_request_examples_each_of_them_json():
    examples = request_examples()
    assert {route for _, route, _ in examples} >= {"/predict", "/track", "/claims/register", "/documents/ingest"}
    for page, route, body in examples:
        try:
            json.loads(body)
        except json.JSONDecodeError as error:
            pytest.fail(f"{page}, {route}: {error}")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_json_blocks_are_json(page):
    for block in re.findall(r"^```json\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL):
        json.loads(block)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_pages_speak_to_the_user_not_of_the_work(page):
    text = page.read_text().lower()
    for phrase in ("issue #", "issue 1", "issue 2", "issue 3", "this session", "this host", "honestly", "not met"):
        assert phrase not in text, phrase


def test_the_readme_opens_with_the_two_commands_and_stays_short():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"^```\w*\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [command for command in commands if command] == ["make serve", "make test"]
    assert len(readme.splitlines()) <= 220


def test_the_cli_knows_the_archive_commands():
    for command in ("export-model", "import-model"):
        shown = subprocess.run([sys.executable, "-m", "serving.cli", command, "--help"], capture_output=True, text=True)
        assert shown.returncode == 0 and "--" in shown.stdout, shown.stderr
