import json

import numpy as np

from eval.speed.bench_matching import BenchMatchingConfig, run, unit_rows


def test_the_report_has_a_row_per_claims_search_and_pieces(tmp_path):
    config = BenchMatchingConfig(claims=[10, 50], pieces=[1, 3], dimension=8, repeats=3, output_dir=str(tmp_path))
    report = run(config)
    assert [(row["claims"], row["search"], row["document vectors"]) for row in report["rows"]] == [
        (claims, search, pieces) for claims in (10, 50) for search in ("exact", "graph") for pieces in (1, 3)
    ]
    assert all(0 < row["median ms"] <= row["p95 ms"] for row in report["rows"])
    assert all((row["build s"] is None) == (row["search"] == "exact") for row in report["rows"])
    assert report["rows"][-1]["claim matrix MB"] == 50 * 8 * 4 / 1e6
    assert json.loads((tmp_path / "bench_matching.json").read_text())["rows"] == report["rows"]
    assert (tmp_path / "bench_matching.md").read_text().count("\n| 50 | graph |") == 2


def test_unit_rows_are_unit_length():
    rows = unit_rows(np.random.default_rng(0), 5, 16)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-6)
