"""Faults a deployment meets, against the real service, the batch job and the monitor: `make chaos`."""
