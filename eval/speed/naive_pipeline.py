"""The naive way to score pairs, for the benchmarks to beat: one `transformers` pipeline call per pair.

PyTorch, unbatched, no length handling beyond the pipeline's own truncation, and the plain argmax for a
label (not the served rule of models/result.py): what a first attempt at serving or batch-scoring this
model looks like. `eval.speed.naive_server` wraps it in HTTP; `python -m
eval.speed.naive_pipeline --model DIR --input FILE.parquet --output OUT.jsonl` loops it over a file.
"""

from __future__ import annotations

import argparse
import json

import pyarrow.parquet as pq
from transformers import pipeline


def load_classifier(model_dir: str):
    return pipeline("text-classification", model=model_dir, device="cpu", top_k=None)


def classify_pair(classify, claim: str, text: str) -> dict:
    """{"label", "scores"} for one pair, from one pipeline call."""
    scores = classify({"text": claim, "text_pair": text}, truncation="only_second")
    best = max(scores, key=lambda s: s["score"])
    return {"label": best["label"], "scores": {s["label"]: s["score"] for s in scores}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="Saved model folder.")
    parser.add_argument("--input", required=True, help="Parquet file with claim and text columns.")
    parser.add_argument("--output", required=True, help="JSONL file, one answer per row.")
    parser.add_argument("--rows", type=int, default=0, help="Score only the first ROWS rows (0: all).")
    args = parser.parse_args()
    classify = load_classifier(args.model)
    table = pq.read_table(args.input, columns=["claim", "text"])
    if args.rows:
        table = table.slice(0, args.rows)
    with open(args.output, "w") as out:
        for row in table.to_pylist():
            out.write(json.dumps(classify_pair(classify, row["claim"], row["text"])) + "\n")


if __name__ == "__main__":
    main()
