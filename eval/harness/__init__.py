"""What the tests and the benchmarks both start: a server in a subprocess, a throwaway PostgreSQL, slow senders."""
