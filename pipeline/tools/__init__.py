"""Install tooling, not a stage: the model manifest and its installer, the wheel fetcher,
the ncnn-to-PyTorch converter and the sample photos. Only management commands, the
tests and the benchmarks use it."""
