import json
import shutil

from eval.bench_model import BenchModelConfig, run
from models.runtime import ONNX_FILE
from training.export import export_onnx


def test_throughput_table_covers_each_runtime_and_batch_size(
    saved_model_dir, tiny_model, tokenizer, synthetic_corpus, tmp_path
):
    model_dir = tmp_path / "model"
    shutil.copytree(saved_model_dir, model_dir)
    export_onnx(tiny_model, tokenizer, model_dir / ONNX_FILE)
    config = BenchModelConfig(
        model=str(model_dir),
        data_dir=str(synthetic_corpus.path),
        batch_sizes=[1, 4],
        threads=[1],
        output_dir=str(tmp_path / "report"),
    )
    results = run(config)
    rows = {(r["runtime"], r["batch"]) for r in results["throughput"]}
    assert rows == {("torch", 1), ("torch", 4), ("onnx", 1), ("onnx", 4)}
    assert all(r["pairs_per_s"] > 0 for r in results["throughput"])
    assert 0 <= results["int8_batch_dependence"]["labels_changed"] <= 1
    saved = json.loads((tmp_path / "report" / "bench_model.json").read_text())
    assert saved["throughput"] == results["throughput"]
    assert "| onnx | 1 | 4 |" in (tmp_path / "report" / "bench_model.md").read_text()
