"""gpumath benchmarks: one module per kernel family, run by ``python -m gpumath bench``."""
