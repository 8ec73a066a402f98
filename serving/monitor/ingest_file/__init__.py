"""`python -m serving.monitor.ingest_file --input documents.jsonl` (`make monitor IN=documents.jsonl`): a file of
documents checked against every watched claim, through the path the service's /documents/ingest takes (plan,
score, commit: serving/monitor/documents.py), a chunk of lines at a time.

Exactly once: the database is the record of what is stored, and ingest is idempotent by document id, so a chunk
done twice (the job killed after its commit, before its progress was saved) stores nothing twice. Resumable: the
progress file beside the rejects says how many chunks are done, and how long the rejects file was then; a rerun
cuts the rejects back to that length and goes on from the next chunk. The input must be the file it was (size,
time, fingerprint), else the rerun is refused. A second job on the same file meanwhile is refused (the rejects'
lock). A line that cannot be ingested (not JSON, no id or text, a date that is not RFC 3339, an id stored with other
content) goes to the rejects with its line number and reason; nothing of it is stored.
"""
