"""How fast it runs: the model, service and batch benchmarks, and the load tools they use."""
