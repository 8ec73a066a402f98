import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serving.batch.workdir import Progress, WorkDir
from serving.jobs.durable import atomic_file
from serving.jobs.input_identity import InputIdentity
from serving.jobs.options import JobInputError
from serving.jobs.rejects import Reject

JOB = {"input": "in.csv", "chunk_rows": 10, "model": "claimstance:v1"}


def test_commits_count_rows_and_a_rerun_resumes_after_the_last_commit(tmp_path):
    work = WorkDir(tmp_path / "out.csv", JOB)
    progress = work.start()
    work.commit(0, pa.table({"id": [1, 2]}), [Reject(3, "claim: empty", {})], 3, progress)
    work.commit(1, pa.table({"id": [4]}), [], 1, progress)
    work.part(2).write_bytes(b"written by a chunk killed before its commit")
    work.rejects_part(2).write_text("{}\n")

    resumed = WorkDir(tmp_path / "out.csv", dict(JOB)).start()
    assert (resumed.chunks_done, resumed.rows_read, resumed.rows_scored, resumed.rows_rejected) == (2, 4, 3, 1)
    assert sorted(p.name for p in work.parts_dir.iterdir()) == [work.part(0).name, work.part(1).name]
    assert not work.rejects_part(2).exists()
    assert work.rejects_part(0).read_text().startswith('{"row": 3, "reason": "claim: empty"')


def test_a_chunk_out_of_order_is_refused(tmp_path):
    work = WorkDir(tmp_path / "out.csv", JOB)
    progress = work.start()
    with pytest.raises(RuntimeError, match="out of order"):
        work.commit(1, pa.table({"id": [1]}), [], 1, progress)


def test_another_jobs_work_is_not_resumed_unless_overwrite_says_so(tmp_path):
    work = WorkDir(tmp_path / "out.csv", JOB)
    work.commit(0, pa.table({"id": [1]}), [], 1, work.start())
    other = WorkDir(tmp_path / "out.csv", JOB | {"model": "claimstance:v2"})
    with pytest.raises(JobInputError, match=r"\(model differ\).*--overwrite"):
        other.start()
    assert other.start(discard_other=True).chunks_done == 0
    assert list(other.parts_dir.iterdir()) == []


def test_work_folder_is_hidden_beside_the_output(tmp_path):
    work = WorkDir(tmp_path / "scored.parquet", JOB)
    work.start()
    assert work.path == tmp_path / ".scored.parquet.claimstance-work"
    work.remove()
    assert list(tmp_path.iterdir()) == []


def test_a_kill_while_the_work_folder_is_removed_leaves_nothing_to_resume(tmp_path, monkeypatch):
    work = WorkDir(tmp_path / "out.csv", JOB)
    progress = work.start()
    work.commit(0, pa.table({"id": [1]}), [], 1, progress)

    def killed(path, ignore_errors=False):
        raise KeyboardInterrupt

    monkeypatch.setattr("shutil.rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        work.remove()
    assert work.path.exists() and not work.exists()
    monkeypatch.undo()
    assert WorkDir(tmp_path / "out.csv", JOB).start().chunks_done == 0


def committed(tmp_path, chunks: int) -> tuple[WorkDir, Progress]:
    """A work folder with `chunks` chunks committed, each of two scored rows and one reject."""
    work = WorkDir(tmp_path / "out.csv", JOB)
    progress = work.start()
    for index in range(chunks):
        rejects = [Reject(3 * index + 3, "claim: empty", {})]
        work.commit(index, pa.table({"id": [3 * index + 1, 3 * index + 2]}), rejects, 3, progress)
    return work, progress


def test_progress_records_each_chunks_counts(tmp_path):
    work, _ = committed(tmp_path, 2)
    saved = json.loads((work.path / "progress.json").read_text())
    assert saved["chunks"] == [{"rows_read": 3, "rows_scored": 2, "rows_rejected": 1}] * 2
    assert (saved["chunks_done"], saved["rows_read"], saved["rows_scored"], saved["rows_rejected"]) == (2, 6, 4, 2)


def test_a_truncated_part_is_found_named_and_committed_again(tmp_path):
    work, _ = committed(tmp_path, 3)
    data = work.part(1).read_bytes()
    work.part(1).write_bytes(data[: len(data) // 2])

    resumed = WorkDir(tmp_path / "out.csv", dict(JOB))
    progress = resumed.start()
    [message] = resumed.find_damaged(progress)
    assert message.startswith("chunk 1 (rows 4-6): 000000001.parquet cannot be read (")
    assert message.endswith("; scoring it again") and resumed.damaged == {1}
    resumed.commit(1, pa.table({"id": [4, 5]}), [Reject(6, "claim: empty", {})], 3, progress)
    assert (progress.chunks_done, progress.rows_read, progress.rows_scored, progress.rows_rejected) == (3, 9, 6, 3)
    assert resumed.find_damaged(resumed.progress()) == [] and resumed.damaged == set()
    with pytest.raises(RuntimeError, match="out of order"):
        resumed.commit(1, pa.table({"id": [4, 5]}), [], 3, progress)


def test_a_part_with_other_rows_than_recorded_is_damaged(tmp_path):
    work, progress = committed(tmp_path, 2)
    pq.write_table(pa.table({"id": [1]}), work.part(0))
    assert work.find_damaged(progress) == [
        "chunk 0 (rows 1-3): 000000000.parquet holds 1 rows where progress.json recorded 2; scoring it again"
    ]


def test_a_rejects_part_cut_short_or_missing_is_damaged(tmp_path):
    work, progress = committed(tmp_path, 3)
    work.rejects_part(0).write_text(work.rejects_part(0).read_text()[:-5])
    work.rejects_part(1).write_text("")
    work.part(2).unlink()
    assert work.find_damaged(progress) == [
        "chunk 0 (rows 1-3): 000000000.jsonl ends in the middle of a line; scoring it again",
        "chunk 1 (rows 4-6): 000000001.jsonl holds 0 lines where progress.json recorded 1; scoring it again",
        "chunk 2 (rows 7-9): 000000002.parquet is missing; scoring it again",
    ]
    assert work.damaged == {0, 1, 2}


def input_job(source: Path) -> dict[str, object]:
    return JOB | InputIdentity.of(source).job_fields()


def test_an_input_grown_since_the_job_started_is_refused_with_the_change_named(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("claim,text\na,b\n")
    WorkDir(tmp_path / "out.csv", input_job(source)).start()
    with source.open("a") as handle:
        handle.write("c,d\n")
    work = WorkDir(tmp_path / "out.csv", input_job(source))
    with pytest.raises(JobInputError) as refused:
        work.start()
    message = str(refused.value)
    assert message.startswith(f"input {source.resolve()}: its size changed from 15 to 19 bytes; ")
    assert "its content changed (SHA-256 of its first and last MiB " in message
    assert message.endswith(f"since the job started: restore it to resume the job, or remove {work.path} (or pass "
                            "--overwrite) to start over")  # fmt: skip
    assert work.start(discard_other=True).chunks_done == 0


def test_an_input_rewritten_in_place_with_its_size_and_time_kept_is_refused(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("claim,text\na,b\n")
    kept = source.stat()
    WorkDir(tmp_path / "out.csv", input_job(source)).start()
    source.write_text("claim,text\nx,y\n")
    os.utime(source, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    with pytest.raises(JobInputError, match=r": its content changed \(SHA-256 of its first and last MiB \w{12}… now"):
        WorkDir(tmp_path / "out.csv", input_job(source)).start()


def test_the_fingerprint_reads_both_ends_of_a_large_file(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"a" * (3 << 20))
    before = InputIdentity.of(source)
    with source.open("r+b") as handle:
        handle.seek((3 << 20) - 10)
        handle.write(b"b")
    os.utime(source, ns=(before.mtime_ns, before.mtime_ns))
    after = InputIdentity.of(source)
    assert after.size == before.size and after.sha256_ends != before.sha256_ends


def test_a_commit_is_on_disk_before_progress_counts_it(tmp_path, monkeypatch):
    """Each part, its folder and progress.json are flushed (fsync) before the rename of progress.json commits."""
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def named(path: str) -> str:
        return re.sub(r"\.[0-9a-f]{16}\.tmp$", ".<tmp>", str(Path(path).relative_to(tmp_path)))

    def fsync(descriptor: int) -> None:
        events.append(f"fsync {named(os.readlink(f'/proc/self/fd/{descriptor}'))}")
        real_fsync(descriptor)

    def replace(source, destination) -> None:
        events.append(f"replace {named(source)} -> {named(destination)}")
        real_replace(source, destination)

    work = WorkDir(tmp_path / "out.csv", JOB)
    progress = work.start()
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    work.commit(0, pa.table({"id": [1]}), [Reject(2, "claim: empty", {})], 2, progress)
    folder = ".out.csv.claimstance-work"
    assert events == [
        f"fsync {folder}/parts/.000000000.parquet.<tmp>",
        f"replace {folder}/parts/.000000000.parquet.<tmp> -> {folder}/parts/000000000.parquet",
        f"fsync {folder}/parts",
        f"fsync {folder}/rejects/.000000000.jsonl.<tmp>",
        f"replace {folder}/rejects/.000000000.jsonl.<tmp> -> {folder}/rejects/000000000.jsonl",
        f"fsync {folder}/rejects",
        f"fsync {folder}/.progress.json.<tmp>",
        f"replace {folder}/.progress.json.<tmp> -> {folder}/progress.json",
        f"fsync {folder}",
    ]


def test_two_writers_of_one_file_never_share_a_temporary_name(tmp_path):
    target = tmp_path / "progress.json"
    with atomic_file(target) as first, atomic_file(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"
    assert [path.name for path in tmp_path.iterdir()] == ["progress.json"]
