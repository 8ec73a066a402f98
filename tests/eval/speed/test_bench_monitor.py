import json

import pytest

from eval.speed.bench_monitor import BenchMonitorConfig, run


@pytest.mark.e2e
def test_both_commands_run_and_the_report_compares_them(synthetic_corpus, onnx_model_dir, embedder_dir, tmp_path):
    config = BenchMonitorConfig(
        model=str(onnx_model_dir),
        embedder=str(embedder_dir),
        data_dir=str(synthetic_corpus.path),
        claims=3,
        documents=6,
        output_dir=str(tmp_path),
    )
    report = run(config)
    assert report["watched claims"] == 3
    assert report["monitor"]["answers"] <= 3 * 6
    assert report["monitor_share_of_score"] == pytest.approx(
        report["monitor"]["documents_per_s"] / report["score"]["documents_per_s"]
    )
    assert json.loads((tmp_path / "bench_monitor.json").read_text())["monitor"] == report["monitor"]
    assert "make monitor" in (tmp_path / "bench_monitor.md").read_text()
