"""The naive baseline the service is measured against: one `transformers` pipeline call per request.

`python -m eval.speed.naive_server --model DIR --port 3001` serves POST /predict with {"claim", "text"}
(eval/speed/naive_pipeline.py says what is naive about it).
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eval.speed.naive_pipeline import classify_pair, load_classifier


def build_app(model_dir: str) -> Starlette:
    classify = load_classifier(model_dir)

    async def predict(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(classify_pair(classify, body["claim"], body["text"]))

    async def ready(_: Request) -> JSONResponse:
        return JSONResponse({"ready": True})

    return Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/readyz", ready)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="Saved model folder.")
    parser.add_argument("--port", type=int, default=3001)
    args = parser.parse_args()
    uvicorn.run(build_app(args.model), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
