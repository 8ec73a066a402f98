import pyarrow as pa
import pytest

from serving.batch.config import BatchInputError
from serving.batch.rows import Reject
from serving.batch.workdir import WorkDir

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
    with pytest.raises(BatchInputError, match=r"\(model differ\).*--overwrite"):
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
