import json

from eval.speed.bench_model import BenchModelConfig, run


def test_throughput_table_covers_each_runtime_and_batch_size(onnx_model_dir, synthetic_corpus, tmp_path):
    config = BenchModelConfig(
        model=str(onnx_model_dir),
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
