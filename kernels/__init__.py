"""CUDA C++ kernel sources, installed as the package ``hpx_uncert._kernels``.

The ``.cu``/``.cuh`` files here are compiled at run time by NVRTC through
``cupy.RawModule`` (see ``hpx_uncert.backends.cuda.module``) and checked ahead of
time with ``nvcc -ptx`` by ``tools/compile_kernels.py``.
"""
