"""Random generation on the current device: ``gpumath.random.default_rng(seed)``.

Random generation is outside the array API standard, so this package owns its backend
dispatch (DESIGN.md §4): a :class:`Generator` draws through ``numpy.random.Generator``
(PCG64) on the CPU and ``cupy.random.Generator`` (cuRAND XORWOW) on a GPU, and fills in on
the device what CuPy's generator lacks (``normal``, ``categorical``, ``multinomial``,
``choice``, ``permutation``, ``shuffle`` ...).

The same seed reproduces the same stream on the same backend. NumPy and CuPy streams
differ: a seed gives different numbers on the CPU and on a GPU.
"""

from ._generator import Generator, default_rng

__all__ = ["Generator", "default_rng"]
