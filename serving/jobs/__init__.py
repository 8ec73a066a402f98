"""What the serving side's file jobs share (the batch job, `make monitor`, `make rescore`): their common flags and
errors, durable writes, the input's fingerprint, the lock on a job's output, reading lines of bounded length, the
rejects, and the Spark session. Neither job imports the other: both import these."""
