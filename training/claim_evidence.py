"""Loading the six claim–evidence corpora of ../shared/data as stance pairs, with the news corpora's columns.

Each corpus becomes (train, test) frames of `claim`, `text`, `label`, `source`, `group`, `text_group`. Support and
pro become `asserting`; refute, con and undermine become `disputing`. "Not enough info" and "neutral" are left out:
they say the text does not settle the claim, which is not what `reporting` means (a text that mentions the claim
without taking a side), so no label of ours fits them.

Splits follow the corpus where it has one (Perspectrum train/dev, IBM Claim Stance train/test, Check-COVID
train+dev/test); FEVER, CLIMATE-FEVER and HealthVer are split here by group, a fixed 20% of groups held out with a
generator of their own, so the held-out pairs are the same whatever seed a model trains with. A group is the
connected component of the claim–evidence graph (claims that share an evidence text are one group), so no claim and
no evidence text is on both sides. CLIMATE-FEVER's claims share so many Wikipedia sentences that one component
holds two thirds of it: there a group is a claim, and a held-out pair whose evidence sentence is also in the
training part is dropped.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.encoding import ClaimLimit
from training.data import COLUMNS, DataFileError, headline_components

FEVER_FILES = ("fever/dev.raw.input1", "fever/dev.raw.input0", "fever/dev.label")
CLIMATE_FEVER_FILE = "climate_fever/climate-fever.jsonl"
CHECK_COVID_FILES = {
    "train": (
        "check_covid/train/covidCheck_train_composed+extracted.json",
        "check_covid/dev/covidCheck_dev_composed+extracted.json",
    ),
    "test": ("check_covid/test/covidCheck_test_composed.json", "check_covid/test/covidCheck_test_extracted.json"),
}
CHECK_COVID_CORPUS = "check_covid/corpus.json"
HEALTHVER_FILES = ("healthver/healthver_dev.csv", "healthver/healthver_test.csv")
IBM_FILE = "ibm_claim_stance/claim_stance_dataset_v1.csv"
FEVER_SYMMETRIC_FILE = "fever_symmetric/fever_symmetric_dev.jsonl"
"""FEVER Symmetric (Schuster et al. 2019), dev split: FEVER dev pairs, each beside a twin whose claim or evidence is
minimally changed and whose label flips. Evaluated on, never trained on (`read_fever` keeps its claims and evidence
out of the FEVER corpus's training part)."""
PERSPECTRUM_FILES = (
    "perspectrum/perspectrum_train_dev_v1.0.json",
    "perspectrum/perspective_pool_train_dev_v1.0.json",
    "perspectrum/dataset_split_train_dev_v1.0.json",
)
HELD_OUT_FRACTION = 0.2
"""Share of groups held out as the test part of a corpus that has no split of its own."""

ASSERTING, DISPUTING, LEFT_OUT = "asserting", "disputing", None


@dataclass(frozen=True)
class LabelMap:
    """One corpus's label names: each maps to ours, or to None (left out); any other name is a data error."""

    names: dict[str, str | None]

    def __call__(self, path: Path, values: list[str], column: str) -> list[str | None]:
        mapped = []
        for row, value in enumerate(values, start=1):
            key = str(value).strip().upper()
            if key not in self.names:
                known = ", ".join(sorted(self.names))
                raise DataFileError(path, f"unknown label {value!r} (expected one of: {known})", row=row, column=column)
            mapped.append(self.names[key])
        return mapped


FEVER_LABELS = LabelMap({"ENTAILMENT": ASSERTING, "NOT_ENTAILMENT": DISPUTING})
FEVER_SYMMETRIC_LABELS = LabelMap({"SUPPORTS": ASSERTING, "REFUTES": DISPUTING})
"""This FEVER copy kept SUPPORTS and REFUTES pairs only, written as RTE labels (see ../shared/data/README.md)."""
CLIMATE_FEVER_LABELS = LabelMap({"SUPPORTS": ASSERTING, "REFUTES": DISPUTING, "NOT_ENOUGH_INFO": LEFT_OUT})
CHECK_COVID_LABELS = LabelMap({"SUPPORT": ASSERTING, "REFUTE": DISPUTING, "NOTENOUGHINFO": LEFT_OUT})
HEALTHVER_LABELS = LabelMap({"SUPPORTS": ASSERTING, "REFUTES": DISPUTING, "NEUTRAL": LEFT_OUT})
IBM_LABELS = LabelMap({"PRO": ASSERTING, "CON": DISPUTING})
PERSPECTRUM_LABELS = LabelMap({"SUPPORT": ASSERTING, "UNDERMINE": DISPUTING})

TWIN_SUFFIX = re.compile(r"000000\d$")

PTB_BRACKETS = {
    **{"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"},
    **{"``": '"', "''": '"'},
}
PTB_SPACING = (
    (re.compile(r"\s+([.,;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$])\s+"), r"\1"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'m|'ll|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r'"\s+(.*?)\s+"'), r'"\1"'),
    (re.compile(r"\s{2,}"), " "),
)


def detokenize(text: str) -> str:
    """Undo FEVER's Penn Treebank tokenization (`-LRB-`, ` , `, `` `` ``) so a pair reads like the text the service
    sees: a model trained on ` , ` would learn a spacing no caller sends."""
    words = [PTB_BRACKETS.get(word, word) for word in text.split()]
    joined = " ".join(words)
    for pattern, replacement in PTB_SPACING:
        joined = pattern.sub(replacement, joined)
    return joined.strip()


def pairs_frame(claims, texts, labels: list[str | None], source: str, groups, text_groups=None) -> pd.DataFrame:
    """The pairs with a label of ours, in the news corpora's columns; left-out labels dropped."""
    frame = pd.DataFrame(
        {
            "claim": [str(c).strip() for c in claims],
            "text": [str(t).strip() for t in texts],
            "label": labels,
            "source": source,
            "group": [f"{source}:{g}" for g in groups],
            "text_group": [f"{source}:{g}" for g in (groups if text_groups is None else text_groups)],
        }
    )
    kept = frame.label.notna() & (frame.claim != "") & (frame.text != "")
    return frame[kept].loc[:, list(COLUMNS)].reset_index(drop=True)


def component_groups(claims, texts) -> list[int]:
    """Claims that share an evidence text are one group (the news corpora's headline–body components)."""
    return headline_components(pd.Series(list(claims)), pd.Series(list(texts)))


def held_out_split(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) of a corpus without its own split: a fixed share of its groups, drawn with a generator seeded by
    the corpus name alone, so the test part never moves with a training seed."""
    groups = sorted(set(frame.group))
    rng = np.random.default_rng(zlib.crc32(source.encode()))
    test = set(rng.choice(groups, size=round(len(groups) * HELD_OUT_FRACTION), replace=False).tolist())
    is_test = frame.group.isin(test).to_numpy()
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataFileError(path, "missing file")
    return path.read_text(encoding="utf-8").splitlines()


def read_json_lines(path: Path) -> list[dict]:
    records = []
    for row, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise DataFileError(path, f"not JSON ({error.msg})", row=row) from error
    return records


def read_json(path: Path):
    try:
        return json.loads("\n".join(read_lines(path)))
    except json.JSONDecodeError as error:
        raise DataFileError(path, f"not JSON ({error.msg}, line {error.lineno})") from error


def field(path: Path, record: dict, name: str, row: int):
    if name not in record:
        raise DataFileError(path, "missing field", row=row, column=name)
    return record[name]


def read_fever(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    claims_path, evidence_path, labels_path = (data_dir / name for name in FEVER_FILES)
    claims, evidence, labels = read_lines(claims_path), read_lines(evidence_path), read_lines(labels_path)
    if not len(claims) == len(evidence) == len(labels):
        raise DataFileError(labels_path, f"{len(claims)} claims, {len(evidence)} evidence lines, {len(labels)} labels")
    texts = [detokenize(text) for text in evidence]
    groups = component_groups(claims, texts)
    frame = pairs_frame(claims, texts, FEVER_LABELS(labels_path, labels, "label"), "fever", groups)
    train, test = held_out_split(frame, "fever")
    symmetric = read_fever_symmetric(data_dir)
    if symmetric is not None:  # its originals are FEVER dev pairs too: none of its claims or evidence trained on
        seen = set(symmetric.claim.map(normalized)) | set(symmetric.text.map(normalized))
        train = train[~(train.claim.map(normalized).isin(seen) | train.text.map(normalized).isin(seen))]
    return train.reset_index(drop=True), test


def read_fever_symmetric(data_dir: Path) -> pd.DataFrame | None:
    """FEVER Symmetric's dev pairs, detokenized as the FEVER corpus is; the twins of one original share a group (the
    original's id: a twin's is it with `000000<n>` after). None where the file is not there: it is an evaluation set,
    not needed to train."""
    path = data_dir / FEVER_SYMMETRIC_FILE
    if not path.is_file():
        return None
    records = read_json_lines(path)
    claims, texts, labels, groups = [], [], [], []
    for row, record in enumerate(records, start=1):
        claims.append(detokenize(field(path, record, "claim", row)))
        texts.append(detokenize(field(path, record, "evidence", row)))
        labels.append(field(path, record, "label", row))
        groups.append(TWIN_SUFFIX.sub("", str(field(path, record, "id", row))))
    return pairs_frame(claims, texts, FEVER_SYMMETRIC_LABELS(path, labels, "label"), "fever_symmetric", groups)


def read_climate_fever(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = data_dir / CLIMATE_FEVER_FILE
    claims, texts, labels = [], [], []
    for row, record in enumerate(read_json_lines(path), start=1):
        for evidence in field(path, record, "evidences", row):
            claims.append(field(path, record, "claim", row))
            texts.append(field(path, evidence, "evidence", row))
            labels.append(field(path, evidence, "evidence_label", row))
    labels = CLIMATE_FEVER_LABELS(path, labels, "evidence_label")
    train, test = held_out_split(pairs_frame(claims, texts, labels, "climate_fever", claims), "climate_fever")
    return train, test[~test.text.map(normalized).isin(set(train.text.map(normalized)))].reset_index(drop=True)


def read_check_covid(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each claim against its evidence sentences of the abstract (joined); its group is the source claim it was
    composed from (the id before `_`), so a claim and its negation stay together."""
    corpus_path = data_dir / CHECK_COVID_CORPUS
    abstracts = {}
    for row, record in enumerate(read_json_lines(corpus_path), start=1):
        abstracts[field(corpus_path, record, "cord_id", row)] = field(corpus_path, record, "abstract", row)
    parts = []
    for names in CHECK_COVID_FILES.values():
        claims, texts, labels, groups = [], [], [], []
        for name in names:
            path = data_dir / name
            for row, record in enumerate(read_json_lines(path), start=1):
                abstract = abstracts.get(field(path, record, "cord_id", row))
                if abstract is None:
                    raise DataFileError(path, f"abstract not in {CHECK_COVID_CORPUS}", row=row, column="cord_id")
                indices = [item["sent_index"] for item in field(path, record, "evidence_set", row)]
                if any(not 0 <= i < len(abstract) for i in indices):
                    raise DataFileError(path, "sentence index out of the abstract", row=row, column="evidence_set")
                claims.append(field(path, record, "claim", row))
                texts.append(" ".join(abstract[i].strip() for i in sorted(set(indices))))
                labels += CHECK_COVID_LABELS(path, [field(path, record, "label", row)], "label")
                groups.append(str(field(path, record, "id", row)).rsplit("_", 1)[0])
        parts.append(pairs_frame(claims, texts, labels, "check_covid", groups))
    return parts[0], parts[1]


def read_healthver(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both files (dev and test; the train file is not available) as one corpus split by group here: the two files
    share claims, so their own split would put a claim on both sides."""
    frames = []
    for name in HEALTHVER_FILES:
        path = data_dir / name
        if not path.is_file():
            raise DataFileError(path, "missing file")
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in ("claim", "evidence", "label"):
            if column not in raw.columns:
                raise DataFileError(path, "missing column", column=column)
        frames.append(raw.assign(label=HEALTHVER_LABELS(path, raw.label.tolist(), "label")))
    raw = pd.concat(frames, ignore_index=True)
    groups = component_groups(raw.claim, raw.evidence)
    frame = pairs_frame(raw.claim, raw.evidence, raw.label.tolist(), "healthver", groups)
    return held_out_split(frame, "healthver")


def read_ibm_claim_stance(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The debate motion is the claim and each argument claim the text: PRO asserts the motion, CON disputes it."""
    path = data_dir / IBM_FILE
    if not path.is_file():
        raise DataFileError(path, "missing file")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("topicId", "split", "topicText", "claims.stance", "claims.claimCorrectedText"):
        if column not in raw.columns:
            raise DataFileError(path, "missing column", column=column)
    is_test = raw.split.str.strip().str.lower().eq("test")
    parts = []
    for side in (raw[~is_test], raw[is_test]):
        labels = IBM_LABELS(path, side["claims.stance"].tolist(), "claims.stance")
        texts = side["claims.claimCorrectedText"]
        parts.append(pairs_frame(side.topicText, texts, labels, "ibm_claim_stance", side.topicId))
    return parts[0], parts[1]


def read_perspectrum(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each perspective of a cluster against its claim, with the cluster's stance; train claims for training, dev
    claims held out (the release's test claims are not here)."""
    claims_path, pool_path, split_path = (data_dir / name for name in PERSPECTRUM_FILES)
    pool = {item["pId"]: item["text"] for item in read_json(pool_path)}
    split = read_json(split_path)
    parts: dict[str, list[pd.DataFrame]] = {"train": [], "dev": []}
    for row, record in enumerate(read_json(claims_path), start=1):
        claim_id = field(claims_path, record, "cId", row)
        side = split.get(str(claim_id))
        if side not in parts:
            raise DataFileError(split_path, f"claim {claim_id} is in neither train nor dev", column=str(claim_id))
        texts, labels = [], []
        for cluster in field(claims_path, record, "perspectives", row):
            label = PERSPECTRUM_LABELS(claims_path, [cluster["stance_label_3"]], "stance_label_3")[0]
            for pid in cluster["pids"]:
                if pid not in pool:
                    raise DataFileError(pool_path, f"perspective {pid} missing", row=row, column="pids")
                texts.append(pool[pid])
                labels.append(label)
        claim = field(claims_path, record, "text", row)
        parts[side].append(pairs_frame([claim] * len(texts), texts, labels, "perspectrum", [claim_id] * len(texts)))
    return pd.concat(parts["train"], ignore_index=True), pd.concat(parts["dev"], ignore_index=True)


READERS: dict[str, Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "fever": read_fever,
    "climate_fever": read_climate_fever,
    "check_covid": read_check_covid,
    "healthver": read_healthver,
    "ibm_claim_stance": read_ibm_claim_stance,
    "perspectrum": read_perspectrum,
}
"""Each claim–evidence corpus by its source name (models/sources.py: CLAIM_EVIDENCE_SOURCES): (train, test)
frames."""


def read_claim_evidence(data_dir: Path | str, sources: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (train, test) pairs of the named corpora, concatenated."""
    if unknown := sorted(set(sources) - set(READERS)):
        raise ValueError(f"unknown claim–evidence corpora {unknown} (known: {', '.join(READERS)})")
    parts = [apart(*READERS[source](Path(data_dir))) for source in sources]
    if not parts:
        empty = pd.DataFrame(columns=list(COLUMNS))
        return empty, empty
    return (
        pd.concat([train for train, _ in parts], ignore_index=True),
        pd.concat([test for _, test in parts], ignore_index=True),
    )


def within_claim_limit(frame: pd.DataFrame, claim_limit: ClaimLimit) -> pd.DataFrame:
    """The pairs whose claim the service would take: a few debate motions and health claims run past the claim's
    token limit, and a claim is refused there, never cut."""
    if frame.empty:
        return frame
    claims = frame.claim.drop_duplicates()
    too_long = {claims.iloc[i] for i in claim_limit.errors(list(claims))}
    return frame[~frame.claim.isin(too_long)].reset_index(drop=True)


def apart(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out pairs without any whose claim (case and spacing aside) is also a training claim: a corpus's own
    split may repeat a claim under another id (Perspectrum does once)."""
    kept = ~test.claim.map(normalized).isin(set(train.claim.map(normalized)))
    return train, test[kept].reset_index(drop=True)


def normalized(text: str) -> str:
    return " ".join(text.lower().split())
