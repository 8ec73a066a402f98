"""`python -m serving.monitor.rescore --model claimstance:latest` (`make rescore`): every stored (document, claim)
pair that has no answer of that model gets one.

The pairs are those matching let through before, with the similarity they were matched at; the documents are read
back from the store. Each batch of pairs is committed on its own, and a pair is chosen only while it lacks the
model's answer, so a killed run resumes where it stopped and a second run adds nothing. Summaries read one model's
answers (summaries.py), so until a claim's pairs are all rescored its summary under the new model says how many
answers the old one has beside it (`other_models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bentoml.exceptions import NotFound
from sqlalchemy import exists, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import aliased
from tqdm.auto import tqdm

from models.command import Command, exit_with
from models.defaults import MODEL_NAME
from models.model_config import ModelLoadError
from models.pair import Pair
from models.predictor import StancePredictor
from models.registry import locate
from models.runtime import chosen_runtime
from serving.monitor.database import database_settings, monitor_engine, sessions, upgrade
from serving.monitor.documents import StanceScorer, answer_row, claim_texts
from serving.monitor.matching import Candidate
from serving.monitor.tables import AnswerRow, DocumentRow


@dataclass
class RescoreConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag or folder to rescore with."})
    database_url: str = field(
        default="", metadata={"help": "The monitor's database (default: CLAIMSTANCE_DATABASE_URL, as the service)."}
    )
    batch_pairs: int = field(default=64, metadata={"help": "Pairs scored and committed at a time."})
    runtime: str = field(default="auto", metadata={"help": "auto (the model's choice), onnx or torch."})
    threads: int = field(default=0, metadata={"help": "Inference threads (0: every core)."})


@dataclass(frozen=True)
class PendingPair:
    document_id: str
    claim_id: str
    similarity: float
    first_answer: int
    """The id of the pair's first stored answer: pairs are answered again in the order they were first answered,
    so a summary under the new model lists its documents in the order they were ingested, as under the old."""
    pair: Pair
    source: str | None = None
    day: date | None = None
    """The document's source and day, copied onto each answer (tables.AnswerRow)."""


def pending_query(model: str, after: int):
    """Each stored (document, claim) pair without an answer of `model`, by its first answer (the lowest id of the pair)
    after `after`, in the order of first answers. Read along the answers' ids, each checked through the pair
    indexes, so a batch costs its own length and the whole run is linear in the answers."""
    mine, earlier = aliased(AnswerRow), aliased(AnswerRow)
    answered = exists().where(
        mine.model == model, mine.document_id == AnswerRow.document_id, mine.claim_id == AnswerRow.claim_id
    )
    not_first = exists().where(
        earlier.document_id == AnswerRow.document_id,
        earlier.claim_id == AnswerRow.claim_id,
        earlier.id < AnswerRow.id,
    )
    return (
        select(AnswerRow.document_id, AnswerRow.claim_id, AnswerRow.similarity, AnswerRow.id)
        .where(AnswerRow.id > after, ~answered, ~not_first)
        .order_by(AnswerRow.id)
    )


def pending_pairs(session, model: str, after: int, limit: int) -> list[PendingPair]:
    rows = session.execute(pending_query(model, after).limit(limit)).all()
    documents = {
        d.id: d for d in session.scalars(select(DocumentRow).where(DocumentRow.id.in_({row[0] for row in rows})))
    }
    claims = claim_texts(session, {row[1] for row in rows})
    pending = []
    for document_id, claim_id, similarity, first in rows:
        document = documents[document_id]
        pair = Pair(claims[claim_id], document.text, document.title)
        pending.append(
            PendingPair(document_id, claim_id, similarity, first, pair, document.source, document.published_day)
        )
    return pending


def count_pending(session, model: str) -> int:
    return session.scalar(select(func.count()).select_from(pending_query(model, 0).order_by(None).subquery()))


def rescore(database_url: str | URL, score: StanceScorer, model: str, batch_pairs: int = 64) -> int:
    """Answer every pending pair with `score` (whose answers must name `model`); how many were answered."""
    engine = monitor_engine(database_url, database_settings())
    upgrade(engine)
    maker = sessions(engine)
    with maker() as session:
        total = count_pending(session, model)
    done, after = 0, 0
    with tqdm(total=total, desc=f"rescoring with {model}", unit="pair", disable=None) as bar:
        while True:
            with maker() as session:
                batch = pending_pairs(session, model, after, batch_pairs)
            if not batch:
                break
            results = score([pending.pair for pending in batch])
            if wrong := {result.model for result in results} - {model}:
                raise ValueError(f"the scorer answers as {sorted(wrong)}, not {model!r}")
            now = datetime.now(UTC)
            with maker.begin() as session:
                session.add_all(
                    answer_row(result, p.document_id, Candidate(p.claim_id, p.similarity), now, p.source, p.day)
                    for p, result in zip(batch, results, strict=True)
                )
            done, after = done + len(batch), batch[-1].first_answer
            bar.update(len(batch))
    engine.dispose()
    return done


@dataclass(frozen=True)
class Rescored:
    model: str
    pairs: int


def run(config: RescoreConfig) -> Rescored:
    model_dir, tag = locate(config.model)
    runtime = chosen_runtime(model_dir, config.runtime)
    predictor = StancePredictor.from_dir(model_dir, runtime, config.threads or None, model_tag=tag)
    database = database_settings(config.database_url)
    return Rescored(tag, rescore(database.url, predictor.predict, tag, config.batch_pairs))


COMMAND = Command(
    "claimstance rescore",
    "Answer the claim monitor's stored (document, claim) pairs again with another model, kept beside the answers "
    "of the models before it; a killed run resumes.",
    "claimstance rescore --model claimstance:latest",
    RescoreConfig,
    run,
    lambda _, done: f"{done.pairs} pairs answered by {done.model}",
    (OSError, ValueError, ModelLoadError, NotFound),
)
main = COMMAND.main


if __name__ == "__main__":
    exit_with(COMMAND)
