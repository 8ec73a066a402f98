"""A miniature copy of the six claim–evidence corpora of ../shared/data, in their own file formats.

Each corpus has claims of both sides, pairs whose label is left out (not enough info, neutral), and where it has a
split of its own, claims on each side of it; FEVER's evidence is PTB-tokenized as the real file is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TOPICS = (
    "the river dam will be finished next year",
    "coffee lowers the risk of heart disease",
    "the new vaccine protects against the variant",
    "school uniforms improve discipline",
    "the old bridge is safe for trucks",
    "electric buses cut city pollution",
    "the festival will return in the spring",
    "the mayor signed the housing bill",
    "sea ice reached a record low",
    "the museum doubled its visitors",
)


@dataclass(frozen=True)
class ClaimEvidenceFiles:
    left_out: dict[str, int]
    """Pairs per corpus whose label is mapped to none of ours (not enough info, neutral)."""
    own_test_claims: dict[str, frozenset[str]]
    """The claims each corpus with a split of its own puts on its test side."""
    fever_tokenized: str
    """A tokenized FEVER evidence line, and (below) how it must read once detokenized."""
    fever_detokenized: str
    fever_symmetric_claims: frozenset[str]
    """FEVER Symmetric's claims, as detokenized: one of them is a FEVER corpus claim, which training must leave out."""


def write_claim_evidence_corpora(root: Path) -> ClaimEvidenceFiles:
    for folder in (
        "fever",
        "fever_symmetric",
        "climate_fever",
        "check_covid/train",
        "check_covid/dev",
        "check_covid/test",
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("healthver", "ibm_claim_stance", "perspectrum"):
        (root / folder).mkdir(parents=True, exist_ok=True)

    tokenized = "The dam -LRB- on the river -RRB- was `` finished '' in 2019 , officials said ."
    detokenized = 'The dam (on the river) was "finished" in 2019, officials said.'
    claims, evidence, labels = [], [], []
    for k, topic in enumerate(TOPICS):
        claims += [f"It is true that {topic}.", f"It is false that {topic}."]
        evidence += [tokenized if k == 0 else f"Records show that {topic} , says a report .", f"A study on {topic} ."]
        labels += ["entailment", "not_entailment"]
    (root / "fever/dev.raw.input1").write_text("\n".join(claims) + "\n")
    (root / "fever/dev.raw.input0").write_text("\n".join(evidence) + "\n")
    (root / "fever/dev.label").write_text("\n".join(labels) + "\n")

    symmetric, symmetric_claims = [], set()
    for pair_id, topic in (("501", TOPICS[3]), ("502", "the lake froze in May")):
        shown, nothing = f"Records show that {topic} , says a report .", f"No record of it , says a report on {topic} ."
        twins = [  # the original (a FEVER corpus pair for the first), its claim's twin, its evidence's twin, both
            (f"It is true that {topic} .", shown, "SUPPORTS"),
            (f"It is false that {topic} .", shown, "REFUTES"),
            (f"It is true that {topic} .", nothing, "REFUTES"),
            (f"It is false that {topic} .", nothing, "SUPPORTS"),
        ]
        for n, (claim, text, label) in enumerate(twins, start=1):
            twin_id = pair_id if n == 1 else f"{pair_id}000000{n}"
            symmetric.append({"id": twin_id, "claim": claim, "evidence": text, "label": label})
            symmetric_claims.add(claim.replace(" .", "."))
    (root / "fever_symmetric/fever_symmetric_dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in symmetric))

    with (root / "climate_fever/climate-fever.jsonl").open("w") as out:
        for k, topic in enumerate(TOPICS):
            evidences = [
                {"evidence": f"Scientists found that {topic}.", "evidence_label": "SUPPORTS"},
                {"evidence": f"Scientists found no sign that {topic}.", "evidence_label": "REFUTES"},
                {"evidence": f"A page mentions {topic} in passing.", "evidence_label": "NOT_ENOUGH_INFO"},
            ]
            out.write(json.dumps({"claim_id": str(k), "claim": topic.capitalize(), "evidences": evidences}) + "\n")

    abstracts = [{"cord_id": f"c{k}", "title": "t", "abstract": [f"We studied whether {t}.", f"Results: {t}."]}
                 for k, t in enumerate(TOPICS)]  # fmt: skip
    (root / "check_covid/corpus.json").write_text("".join(json.dumps(a) + "\n" for a in abstracts))
    check_covid_test = set()
    files = {
        "train/covidCheck_train_composed+extracted.json": range(0, 6),
        "dev/covidCheck_dev_composed+extracted.json": range(6, 8),
        "test/covidCheck_test_composed.json": range(8, 9),
        "test/covidCheck_test_extracted.json": range(9, 10),
    }
    for name, topics in files.items():
        rows = []
        for k in topics:
            for j, label in enumerate(("SUPPORT", "REFUTE", "NOTENOUGHINFO")):
                claim = f"Check {j}: {TOPICS[k]}."
                rows.append({"id": f"s{k}_{j}", "claim": claim, "cord_id": f"c{k}", "label": label,
                             "evidence_set": [{"sent_index": 1, "type": "PRIMARY"}]})  # fmt: skip
                if name.startswith("test/") and label != "NOTENOUGHINFO":
                    check_covid_test.add(claim)
        (root / "check_covid" / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "check_covid/Check-COVID_all.json").write_text("")

    for k, name in enumerate(("dev", "test")):
        rows = [
            (i, f"Trials show {t}.", f"Health claim {i}: {t}.", label, i, "q")
            for i, t in enumerate(TOPICS[k * 5 : k * 5 + 5], start=k * 5)
            for label in ("Supports", "Refutes", "Neutral")
        ]
        frame = pd.DataFrame(rows, columns=["id", "evidence", "claim", "label", "topic_ip", "question"])
        frame.to_csv(root / f"healthver/healthver_{name}.csv", index=False)

    ibm_rows, ibm_test = [], set()
    for k, topic in enumerate(TOPICS[:6]):
        split = "test" if k >= 4 else "train"
        motion = f"This house believes that {topic}"
        if split == "test":
            ibm_test.add(motion)
        for stance in ("PRO", "CON", "PRO"):
            ibm_rows.append((k, split, motion, stance, f"{stance.lower()} argument {len(ibm_rows)} on {topic}"))
    pd.DataFrame(
        ibm_rows, columns=["topicId", "split", "topicText", "claims.stance", "claims.claimCorrectedText"]
    ).to_csv(root / "ibm_claim_stance/claim_stance_dataset_v1.csv", index=False)

    pool, claims_json, split, perspectrum_dev = [], [], {}, set()
    for k, topic in enumerate(TOPICS[:6]):
        clusters = []
        for stance in ("SUPPORT", "UNDERMINE"):
            pids = [len(pool) + 1, len(pool) + 2]
            pool += [{"pId": p, "text": f"{stance.lower()} perspective {p} on {topic}"} for p in pids]
            clusters.append({"pids": pids, "stance_label_3": stance})
        claims_json.append({"cId": k, "text": topic.capitalize(), "perspectives": clusters})
        split[str(k)] = "dev" if k >= 4 else "train"
        if k >= 4:
            perspectrum_dev.add(topic.capitalize())
    (root / "perspectrum/perspectrum_train_dev_v1.0.json").write_text(json.dumps(claims_json))
    (root / "perspectrum/perspective_pool_train_dev_v1.0.json").write_text(json.dumps(pool))
    (root / "perspectrum/dataset_split_train_dev_v1.0.json").write_text(json.dumps(split))

    return ClaimEvidenceFiles(
        left_out={"climate_fever": len(TOPICS), "check_covid": len(TOPICS), "healthver": len(TOPICS)},
        own_test_claims={
            "check_covid": frozenset(check_covid_test),
            "ibm_claim_stance": frozenset(ibm_test),
            "perspectrum": frozenset(perspectrum_dev),
        },
        fever_tokenized=tokenized,
        fever_detokenized=detokenized,
        fever_symmetric_claims=frozenset(symmetric_claims),
    )
