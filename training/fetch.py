"""`make data`: check the stance corpora in a data folder, fetching missing files where a network exists.

Every file is verified against its SHA-256 (the values of ../shared/data/README.md), whether it was
already there or just downloaded, so training never runs on a truncated or altered corpus.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from transformers import HfArgumentParser

from training.config import default_data_dir

EMERGENT = "https://raw.githubusercontent.com/willferreira/mscproject/master/data/emergent"
FNC1 = "https://raw.githubusercontent.com/FakeNewsChallenge/fnc-1/master"
ARC = "https://raw.githubusercontent.com/UKPLab/coling2018_fake-news-challenge/master/data/fnc-1/corpora/ARC"
FEVER = "https://raw.githubusercontent.com/asaakyan/covidfact/ceeb613c/RTE-Fever/processed"
CLIMATE_FEVER = "https://raw.githubusercontent.com/tdiggelm/climate-fever-dataset/03de6161/dataset"
CHECK_COVID = "https://raw.githubusercontent.com/posuer/Check-COVID/3ae70f8c/Check-COVID"
HEALTHVER = "https://raw.githubusercontent.com/sarrouti/HealthVer/b20ac99c/data"


@dataclass(frozen=True)
class DataFile:
    path: str
    sha256: str
    url: str | None
    """None for a file that exists nowhere as it is here (repaired or filtered, see ../shared/data/README.md)."""
    derive_test_ids: bool = False
    """The Emergent test split is published as a CSV; we keep only its article ids."""


FILES = (
    DataFile(
        "emergent/url-versions-2015-06-14-clean.csv",
        "f814b0c63dded02efcb78932ff91865126d8ca6b1ec3e74dead0967b501e10f2",
        f"{EMERGENT}/url-versions-2015-06-14-clean.csv",
    ),
    DataFile(
        "emergent/test_article_ids.txt",
        "a80f5a2d8129d3817652fe8f55a849e732b4839f73431147a8f66af79982cc61",
        f"{EMERGENT}/url-versions-2015-06-14-clean-test.csv",
        derive_test_ids=True,
    ),
    DataFile(
        "fnc1/train_stances.csv",
        "89d2e76db8ddb3a68d9dc7e572bc84c3cba7fb61827b3ee10925885245d7d167",
        f"{FNC1}/train_stances.csv",
    ),
    DataFile(
        "fnc1/train_bodies.csv",
        "f1960cf7aa6972a9308aedbd3b393ab773893604d7d323378b75f66112f0c27a",
        f"{FNC1}/train_bodies.csv",
    ),
    DataFile(
        "arc/arc_stances_train.csv",
        "fde51ffbd30ae9f09118e48d289241a0f08f623d9c361e60e4220fe8c3c46f49",
        f"{ARC}/arc_stances_train.csv",
    ),
    DataFile(
        "arc/arc_bodies.csv",
        "a13f62cf28248e00a7ccaba8be3c29619eac2f1185465ff83158e0fafa1235d1",
        f"{ARC}/arc_bodies.csv",
    ),
    DataFile(
        "fever/dev.label",
        "5b58f98be8c1b63c3d03ec53432ace30aa335d85541c6a29596d34742e7c45f2",
        f"{FEVER}/dev.label",
    ),
    DataFile(
        "fever/dev.raw.input0",
        "bfa49901e811005375a93bd2bb6c199d4af24fc919dbf505d7246a6b572d0fbf",
        f"{FEVER}/dev.raw.input0",
    ),
    DataFile(
        "fever/dev.raw.input1",
        "74ffc88ba9ee86d525201bf61f29b33d5fbeb0f1ddae90d2c8f587912b6a55ca",
        f"{FEVER}/dev.raw.input1",
    ),
    DataFile(
        "climate_fever/climate-fever.jsonl",
        "8a4b9032d861be482ffb49dddfd283ffa6089e654f1e968040011882c5eb6e0b",
        f"{CLIMATE_FEVER}/climate-fever.jsonl",
    ),
    DataFile(
        "check_covid/Check-COVID_all.json",
        "008b930570d374530528efa9edc6b2a029189a6d21b844ce1857324039d9e697",
        f"{CHECK_COVID}/Check-COVID_all.json",
    ),
    DataFile(
        "check_covid/corpus.json",
        "2a56084b933f28ec02781a9e501082683ca4b9c4c1c6c8530190d6fb0002ce42",
        f"{CHECK_COVID}/corpus.json",
    ),
    DataFile(
        "check_covid/dev/covidCheck_dev_composed+extracted.json",
        "e64723a546c0ace6a6e1b022120664f36fe4c481e4a9f2d24e5dddc044bee717",
        f"{CHECK_COVID}/dev/covidCheck_dev_composed+extracted.json",
    ),
    DataFile(
        "check_covid/test/covidCheck_test_composed.json",
        "24e51eef9c9741c7766fd9df60d03faca7494eae695d59d99135067f9916b440",
        f"{CHECK_COVID}/test/covidCheck_test_composed.json",
    ),
    DataFile(
        "check_covid/test/covidCheck_test_extracted.json",
        "4e9a903d3e55d1d7121bdf1c82e28d1490bccbe64e4e06b2b8990b900a7b4985",
        f"{CHECK_COVID}/test/covidCheck_test_extracted.json",
    ),
    DataFile(
        "check_covid/train/covidCheck_train_composed+extracted.json",
        "1af4b5e364129631b49a9132cadcd4f1b4937c90bef22ba0c08242be1630858b",
        f"{CHECK_COVID}/train/covidCheck_train_composed+extracted.json",
    ),
    DataFile(
        "healthver/healthver_dev.csv",
        "6f8ea31cbcf2ea5a2d3c82d65587d66e96de4f70e72642bbf7f61fec6ef8a93a",
        f"{HEALTHVER}/healthver_dev.csv",
    ),
    DataFile(
        "healthver/healthver_test.csv",
        "cf457d2dcddd7a736408082d0037527884f7ca3bda06729e1da5ec9e3b135819",
        f"{HEALTHVER}/healthver_test.csv",
    ),
    DataFile(
        "ibm_claim_stance/claim_stance_dataset_v1.csv",
        "23d98396d94459b3138fe00cf693550bdfaf434d7e5b8bd8fcd5d47aa90533ae",
        None,
    ),
    DataFile(
        "perspectrum/dataset_split_train_dev_v1.0.json",
        "ac90ecc83d69d51125896350799fc5f6b50cb00c31ec614904e57682be152495",
        None,
    ),
    DataFile(
        "perspectrum/perspective_pool_train_dev_v1.0.json",
        "d5f00fea2b19ddb667ec23e7ce3bbdfed0ea950f363e8578bc85d53886cf58d9",
        None,
    ),
    DataFile(
        "perspectrum/perspectrum_train_dev_v1.0.json",
        "f6194fb7ecc0e95c45ab1c2a0a0b0ddcc09df1fe38146f305da3aa4150046189",
        None,
    ),
)


@dataclass
class FetchConfig:
    data_dir: str = field(default_factory=default_data_dir, metadata={"help": "Folder to check or fill."})


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(data_file: DataFile, target: Path) -> None:
    """Fetch into a temporary name and move into place only once complete."""
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(data_file.url, timeout=60) as response:
        partial.write_bytes(response.read())
    if data_file.derive_test_ids:
        ids = pd.read_csv(partial)["articleId"]
        partial.write_text("".join(f"{article_id}\n" for article_id in ids))
    partial.replace(target)


def check(data_dir: Path) -> list[str]:
    """Problems with the data folder, fetching what is missing; an empty list means all is well."""
    problems = []
    for data_file in FILES:
        target = data_dir / data_file.path
        if not target.exists() and data_file.url is None:
            problems.append(
                f"{data_file.path}: missing, and no source holds it as it is (see ../shared/data/README.md)"
            )
            continue
        if not target.exists():
            print(f"fetching {data_file.path} from {data_file.url}", flush=True)
            try:
                download(data_file, target)
            except OSError as error:
                problems.append(f"{data_file.path}: missing and cannot be fetched ({error})")
                continue
        actual = sha256(target)
        if actual != data_file.sha256:
            problems.append(f"{data_file.path}: SHA-256 {actual} is not the expected {data_file.sha256}")
        else:
            print(f"ok  {data_file.path}")
    return problems


def main() -> None:
    (config,) = HfArgumentParser(FetchConfig).parse_args_into_dataclasses()
    problems = check(Path(config.data_dir))
    if problems:
        sys.exit("data check failed:\n  " + "\n  ".join(problems))
    print(f"data ready in {config.data_dir}")


if __name__ == "__main__":
    main()
