import json

from eval.chaos.batch import (
    ENDED,
    ChaosReport,
    Comparison,
    Concurrent,
    Kill,
    Kills,
    Truncation,
    compare,
    input_rows,
    job_done,
    markdown,
    where_killed,
    work_folder,
    write_report,
)


def write_output(path, rows: list[dict], rejects: str = "") -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    path.with_name(f"{path.stem}.rejects.jsonl").write_text(rejects)


def test_input_rows_cycle_claims_and_hold_a_reject_every_37_rows():
    rows = input_rows(80)
    assert [i for i, row in enumerate(rows) if not row["claim"]] == [0, 37, 74]
    assert len({row["id"] for row in rows}) == 80


def test_outputs_are_compared_row_for_row_rejects_included(tmp_path):
    reference = tmp_path / "reference.jsonl"
    write_output(reference, [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}], "r\n")
    same, other = tmp_path / "same.jsonl", tmp_path / "other.jsonl"
    write_output(same, [{"label": "a", "id": 1}, {"id": 2, "label": "b"}], "r\n")
    write_output(other, [{"id": 1, "label": "c"}], "")
    assert compare(same, reference) == Comparison(2, 2, 0, True) and compare(same, reference).equal
    assert compare(other, reference) == Comparison(1, 2, 2, False)
    assert compare(tmp_path / "missing.jsonl", reference) == Comparison(0, 2, 2, False)


def test_where_a_kill_landed_is_read_from_the_work_folder(tmp_path):
    output = tmp_path / "out.jsonl"
    work_folder(output).mkdir()
    assert where_killed(output) == "while scoring"
    (work_folder(output) / "progress.json").write_text(json.dumps({"chunks_done": 4, "complete": True}))
    assert where_killed(output) == "while joining the parts"
    (work_folder(output) / "job.json").write_text("{}")
    output.write_text("")
    assert where_killed(output) == "after writing the output" and not job_done(output)
    (work_folder(output) / "job.json").unlink()  # the job's cleanup removes it first: a kill then leaves the rest
    assert job_done(output)


def test_the_report_counts_the_kills_that_landed_mid_job(tmp_path):
    kills = [Kill(0, 0.5, "while scoring", 0, 9), Kill(1, 0.1, ENDED, 9, 40, exit_code=0)]
    report = ChaosReport(
        model="m", machine="a machine", rows=400, chunk_rows=10, reference_seconds=8.0,
        concurrent=Concurrent([0, 2], "claimstance score: error: out: another batch job ...", True),
        kills=Kills(20, kills, 1, 0, Comparison(389, 389, 0, True), True),
        truncation=Truncation("000000001.parquet", "chunk 1 (rows 11-20): ...; scoring it again", 0,
                              Comparison(389, 389, 0, True), True),
    )  # fmt: skip
    text = markdown(report)
    assert "| two jobs on one output | exit codes [0, 2]; one ran, one refused |" in text
    assert "| SIGKILLs | 2 of 20; 1 landed mid-job (1 while scoring, 1 ended before the kill) |" in text
    assert (
        "| killed and resumed against uninterrupted | equal (389 rows, 0 differing, rejects equal; the run that "
        "finished it exited 0) |"
    ) in text
    assert "| its message | `chunk 1 (rows 11-20): ...; scoring it again` |" in text
    write_report(report, tmp_path / "report" / "chaos.json")
    saved = json.loads((tmp_path / "report" / "chaos.json").read_text())
    assert [kill["mid_job"] for kill in saved["kills"]["kills"]] == [True, False]
    assert saved["truncation"]["equal"] and saved["concurrent"]["exit_codes"] == [0, 2]
