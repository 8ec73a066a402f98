"""Loading the stance corpora (Emergent, FNC-1, ARC, a user's file) as `datasets.Dataset`s.

Every example has the same columns: `claim`, `text`, `label` (a label name of models.labels), `source`
(corpus name), `group` (the claim it belongs to) and `text_group` (the claim its text belongs to). Splits
are made by group, so no claim is ever on both sides of a split.

FNC-1 was built from Emergent: its headlines are Emergent article headlines and its bodies are the
articles. So an FNC-1 pair is grouped under the Emergent claim its headline belongs to, and the
FNC-1 pairs of Emergent *test* claims are held out of training entirely: they become our FNC-1
test split. Training on them would leak the Emergent test set.

Related pairs join a headline and a body of the same claim, so their two groups are one. An `unrelated`
pair joins a headline of one claim with a body of another: it belongs to a side of a split only when both
its groups do, and is dropped when they fall on different sides (its body would otherwise be seen in
training beside another headline, or its headline beside another body).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset, concatenate_datasets

from models.labels import UNRELATED, normalize_label

COLUMNS = ("claim", "text", "label", "source", "group", "text_group")
EMERGENT_CSV = "emergent/url-versions-2015-06-14-clean.csv"
EMERGENT_TEST_IDS = "emergent/test_article_ids.txt"
FNC1_FILES = ("fnc1/train_stances.csv", "fnc1/train_bodies.csv")
ARC_FILES = ("arc/arc_stances_train.csv", "arc/arc_bodies.csv")


class DataFileError(ValueError):
    """A data file that cannot be used, with the file, row and column at fault."""

    def __init__(self, path: Path | str, message: str, row: int | None = None, column: str | None = None):
        where = str(path) + (f", row {row}" if row is not None else "") + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass
class StanceCorpus:
    """Everything the training and evaluation pipelines draw from one data directory."""

    train_pool: Dataset
    """Pairs that may be trained on or carved into validation (Emergent train, FNC-1 and ARC minus test claims)."""
    emergent_test: Dataset
    """The published Emergent test split (Ferreira & Vlachos 2016)."""
    fnc1_test: Dataset
    """FNC-1 pairs of the Emergent test claims, related and unrelated: held out by headline and body."""


def _norm(headline: str) -> str:
    return " ".join(headline.lower().split())


def _frame(claim, text, labels, source: str, group, text_group=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim": list(claim),
            "text": list(text),
            "label": [normalize_label(x) for x in labels],
            "source": source,
            "group": list(group),
            "text_group": list(group if text_group is None else text_group),
        }
    )


def read_emergent(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Emergent as (train, test) frames, using the published test article ids."""
    raw = pd.read_csv(data_dir / EMERGENT_CSV)
    test_ids = {line.strip() for line in (data_dir / EMERGENT_TEST_IDS).read_text().splitlines() if line.strip()}
    frame = _frame(raw.claimHeadline, raw.articleHeadline, raw.articleHeadlineStance, "emergent", raw.claimId)
    is_test = raw.articleId.isin(test_ids).to_numpy()
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def headline_components(headlines: pd.Series, body_ids: pd.Series) -> list[int]:
    """Connected components of the headline–body graph: pairs that share a headline or a body."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for headline, body in zip(headlines, body_ids, strict=True):
        parent[root(f"h:{headline}")] = root(f"b:{body}")
    roots: dict[str, int] = {}
    return [roots.setdefault(root(f"h:{h}"), len(roots)) for h in headlines]


def read_fnc_format(data_dir: Path, files: tuple[str, str], source: str) -> pd.DataFrame:
    """Pairs of an FNC-1-format corpus (headline = claim, body = text). Headlines and bodies are grouped by the
    components of their related pairs; one that has none (only unrelated pairs) is a group of its own."""
    stances = pd.read_csv(data_dir / files[0])
    bodies = pd.read_csv(data_dir / files[1]).set_index("Body ID")["articleBody"]
    related = stances[stances.Stance.str.lower() != UNRELATED]
    components = headline_components(related.Headline, related["Body ID"])
    headline_group = {h: f"{source}:{c}" for h, c in zip(related.Headline, components, strict=True)}
    body_group = {b: f"{source}:{c}" for b, c in zip(related["Body ID"], components, strict=True)}
    groups = [headline_group.get(h, f"{source}:h:{h}") for h in stances.Headline]
    text_groups = [body_group.get(b, f"{source}:b:{b}") for b in stances["Body ID"]]
    texts = bodies.loc[stances["Body ID"]].to_numpy()
    return _frame(stances.Headline, texts, stances.Stance, source, groups, text_groups)


def link_to_emergent(fnc: pd.DataFrame, emergent: pd.DataFrame, test_claims: set[str]) -> pd.DataFrame:
    """Regroup FNC-1 components under the Emergent claim their headlines come from (test claims first); a body's
    group follows the component it shares with its related headlines."""
    claim_of_headline: dict[str, str] = {}
    for row in emergent.itertuples():
        for headline in (row.claim, row.text):
            key = _norm(headline)
            if claim_of_headline.get(key) not in test_claims:
                claim_of_headline[key] = row.group
    linked: dict[str, str] = {}
    for component, claim in zip(fnc.group, fnc.claim.map(_norm).map(claim_of_headline), strict=True):
        if isinstance(claim, str) and linked.get(component) not in test_claims:
            linked[component] = claim
    return fnc.assign(
        group=fnc.group.map(lambda g: linked.get(g, g)), text_group=fnc.text_group.map(lambda g: linked.get(g, g))
    )


def sides(frame: pd.DataFrame, held_out: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which rows are wholly on the held-out side (both groups held out) and which wholly off it (neither);
    rows in neither mask straddle the split and belong to no side."""
    claim_side = frame.group.isin(held_out).to_numpy()
    text_side = frame.text_group.isin(held_out).to_numpy()
    return claim_side & text_side, ~claim_side & ~text_side


def load_corpus(data_dir: Path | str, sources: tuple[str, ...] = ("emergent", "fnc1", "arc")) -> StanceCorpus:
    data_dir = Path(data_dir)
    emergent_train, emergent_test = read_emergent(data_dir)
    test_claims = set(emergent_test.group)
    fnc = link_to_emergent(
        read_fnc_format(data_dir, FNC1_FILES, "fnc1"), pd.concat([emergent_train, emergent_test]), test_claims
    )
    is_fnc_test, is_fnc_train = sides(fnc, test_claims)
    pool = []
    if "emergent" in sources:
        pool.append(emergent_train)
    if "fnc1" in sources:
        pool.append(fnc[is_fnc_train])
    if "arc" in sources:
        pool.append(read_fnc_format(data_dir, ARC_FILES, "arc"))
    return StanceCorpus(
        train_pool=to_dataset(pd.concat(pool, ignore_index=True)),
        emergent_test=to_dataset(emergent_test),
        fnc1_test=to_dataset(fnc[is_fnc_test]),
    )


def to_dataset(frame: pd.DataFrame) -> Dataset:
    return Dataset.from_pandas(frame.loc[:, list(COLUMNS)].reset_index(drop=True), preserve_index=False)


def split_by_group(dataset: Dataset, validation_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Hold out a random `validation_fraction` of each source's groups (claims), never single rows.

    Each source draws with its own generator, Emergent first, and a group an earlier source already
    placed keeps its place: so Emergent's validation claims are the same whatever else is trained on,
    and scores on them compare across recipes. An unrelated pair whose two groups land on different
    sides is in neither split.
    """
    frame = dataset.select_columns(["source", "group", "text_group"]).to_pandas()
    held_out: set[str] = set()
    placed: set[str] = set()
    for source in sorted(set(frame.source), key=lambda s: (s != "emergent", s)):
        groups = sorted(set(frame.group[frame.source == source]) - placed)
        n_held = max(1, round(len(groups) * validation_fraction)) if len(groups) > 1 else 0
        rng = np.random.default_rng([seed, zlib.crc32(source.encode())])
        held_out.update(rng.choice(groups, size=n_held, replace=False).tolist())
        placed.update(groups)
    is_validation, is_train = sides(frame, held_out)
    return dataset.select(np.flatnonzero(is_train)), dataset.select(np.flatnonzero(is_validation))


def mismatched_pairs(dataset: Dataset, per_claim: int, seed: int) -> Dataset:
    """`unrelated` pairs made from related ones: each claim beside `per_claim` texts drawn from other claims.

    Emergent has no unrelated pairs and FNC-1's are all article bodies, so without these a model could learn that
    a short text is always about the claim. Drawn within one split (claim and text from the same side), the way
    FNC-1 drew its own unrelated pairs: at random among other claims' texts.
    """
    frame = dataset.to_pandas()
    frame = frame[frame.label != UNRELATED]
    rng = np.random.default_rng(seed)
    rows = []
    for (group, source), claim in frame.groupby(["group", "source"], sort=True).claim.first().items():
        others = frame[frame.group != group]
        if not per_claim or others.empty:
            continue
        drawn = others.iloc[rng.choice(len(others), size=min(per_claim, len(others)), replace=False)]
        n = len(drawn)
        rows.append(_frame([claim] * n, drawn.text, [UNRELATED] * n, source, [group] * n, drawn.group))
    return to_dataset(pd.concat(rows, ignore_index=True)) if rows else dataset.select([])


def merge(datasets: list[Dataset]) -> Dataset:
    return concatenate_datasets(datasets) if len(datasets) > 1 else datasets[0]
