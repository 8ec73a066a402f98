"""`python -m serving.monitor.rescore --model claimstance:latest` (`make rescore`): every stored (document, claim)
pair that has no answer of that model gets one.

The pairs are those matching let through before, with the similarity they were matched at; the documents are read
back from the store. Each batch of pairs is committed on its own, and a pair is chosen only while it lacks the
model's answer, so a killed run resumes where it stopped and a second run adds nothing. Pictures read one model's
answers (pictures.py), so until a claim's pairs are all rescored its picture under the new model says how many
answers the old one has beside it (`other_models`).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from tqdm.auto import tqdm
from transformers import HfArgumentParser

from models.defaults import MODEL_NAME
from models.pair import Pair
from models.predictor import StancePredictor
from models.registry import locate
from models.runtime import chosen_runtime
from serving.monitor.database import DEFAULT_DATABASE_URL, monitor_engine, sessions, upgrade
from serving.monitor.documents import StanceScorer, answer_row
from serving.monitor.matching import Candidate
from serving.monitor.tables import AnswerRow, ClaimRow, DocumentRow

log = logging.getLogger("claimstance.rescore")


@dataclass
class RescoreConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag or folder to rescore with."})
    database_url: str = field(default=DEFAULT_DATABASE_URL, metadata={"help": "The monitor's database."})
    batch_pairs: int = field(default=64, metadata={"help": "Pairs scored and committed at a time."})
    runtime: str = field(default="auto", metadata={"help": "auto (the model's choice), onnx or torch."})
    threads: int = 0


@dataclass(frozen=True)
class PendingPair:
    document_id: str
    claim_id: str
    similarity: float
    pair: Pair


def pending_query(model: str):
    """Each stored (document, claim) pair without an answer of `model`, in a fixed order, with its best similarity."""
    mine = aliased(AnswerRow)
    answered = exists().where(
        and_(mine.model == model, mine.document_id == AnswerRow.document_id, mine.claim_id == AnswerRow.claim_id)
    )
    return (
        select(AnswerRow.document_id, AnswerRow.claim_id, func.max(AnswerRow.similarity))
        .where(~answered)
        .group_by(AnswerRow.document_id, AnswerRow.claim_id)
        .order_by(AnswerRow.document_id, AnswerRow.claim_id)
    )


def pending_pairs(session, model: str, limit: int) -> list[PendingPair]:
    rows = session.execute(pending_query(model).limit(limit)).all()
    documents = {d.id: d for d in session.scalars(select(DocumentRow).where(DocumentRow.id.in_({r[0] for r in rows})))}
    claims = dict(
        session.execute(select(ClaimRow.id, ClaimRow.text).where(ClaimRow.id.in_({r[1] for r in rows}))).all()
    )
    return [
        PendingPair(
            document_id,
            claim_id,
            similarity,
            Pair(claims[claim_id], documents[document_id].text, documents[document_id].title),
        )
        for document_id, claim_id, similarity in rows
    ]


def count_pending(session, model: str) -> int:
    return session.scalar(select(func.count()).select_from(pending_query(model).order_by(None).subquery()))


def rescore(database_url: str, score: StanceScorer, model: str, batch_pairs: int = 64) -> int:
    """Answer every pending pair with `score` (whose answers name `model`); how many were answered."""
    engine = monitor_engine(database_url)
    upgrade(engine)
    maker = sessions(engine)
    with maker() as session:
        total = count_pending(session, model)
    done = 0
    with tqdm(total=total, desc=f"rescoring with {model}", unit="pair", disable=None) as bar:
        while True:
            with maker() as session:
                batch = pending_pairs(session, model, batch_pairs)
            if not batch:
                break
            results = score([pending.pair for pending in batch])
            now = datetime.now(UTC)
            with maker.begin() as session:
                session.add_all(
                    answer_row(result, p.document_id, Candidate(p.claim_id, p.similarity), now)
                    for p, result in zip(batch, results, strict=True)
                )
            done += len(batch)
            bar.update(len(batch))
    engine.dispose()
    return done


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    (config,) = HfArgumentParser(RescoreConfig).parse_args_into_dataclasses(argv)
    model_dir, tag = locate(config.model)
    runtime = chosen_runtime(model_dir, config.runtime)
    predictor = StancePredictor.from_dir(model_dir, runtime, config.threads or None, model_tag=tag)
    answered = rescore(config.database_url, predictor.predict, tag, config.batch_pairs)
    print(f"claimstance rescore: {answered} pairs answered by {tag}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
