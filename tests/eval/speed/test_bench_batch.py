import json
import subprocess
import sys

import pandas as pd
import psutil
import pytest

from eval.speed.bench_batch import BenchBatchConfig, cycled, run, run_measured, tree_rss


def test_cycled_repeats_the_pairs_in_order():
    frame = pd.DataFrame({"claim": ["a", "b"], "text": ["x", "y"]})
    assert cycled(frame, 5).claim.tolist() == ["a", "b", "a", "b", "a"]


def test_peak_memory_counts_the_whole_process_tree():
    child = "import time; x = bytearray(80_000_000); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    seconds, peak_mb = run_measured([sys.executable, "-c", parent])
    assert seconds >= 1.5 and peak_mb >= 80


def test_memory_of_a_process_that_has_exited_is_zero_not_an_error():
    job = subprocess.Popen([sys.executable, "-c", "pass"])
    process = psutil.Process(job.pid)
    job.wait()
    assert tree_rss(process) == 0


def test_a_failing_phase_reports_its_error():
    with pytest.raises(RuntimeError, match="boom"):
        run_measured([sys.executable, "-c", "raise SystemExit('boom')"])


@pytest.mark.e2e
def test_report_has_a_row_per_phase(onnx_model_dir, synthetic_corpus, tmp_path):
    config = BenchBatchConfig(
        model=str(onnx_model_dir), data_dir=str(synthetic_corpus.path), short_rows=40, long_rows=8,
        naive_rows=6, memory_rows=[20], engines=["local"], output_dir=str(tmp_path / "report"),
    )  # fmt: skip
    phases = run(config)
    assert [(p.engine, p.pairs, p.rows) for p in phases] == [
        ("local", "short", 40), ("local", "long", 8), ("local", "short", 20), ("naive", "short", 6)
    ]  # fmt: skip
    assert all(p.pairs_per_second > 0 and p.peak_rss_mb > 50 for p in phases)
    saved = json.loads((tmp_path / "report" / "bench_batch.json").read_text())
    assert [row["rows"] for row in saved["phases"]] == [40, 8, 20, 6]
    report = (tmp_path / "report" / "bench_batch.md").read_text()
    assert "| naive transformers pipeline, one call per row | short | 6 |" in report
    assert "against the file's size (short pairs): 20 rows " in report and ", 40 rows " in report
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["description"] in report
