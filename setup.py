"""The native parts: the filter engine and the DNS front end's UDP fast path; every other
setting is in pyproject.toml.

``optional=True``: on a machine without a C compiler the install still succeeds, and the engine
runs its pure-Python implementation (``filters.engine._accel`` says which one is in use) and the
DNS front end answers every query in Python (``filters.dns.fastpath.native_fast_path``).
"""

from setuptools import Extension, setup

SOURCES = "src/filters/engine/csrc"

setup(
    ext_modules=[
        Extension(
            "filters.engine._native",
            [f"{SOURCES}/{name}.c" for name in ("module", "names", "table", "reader", "build")],
            depends=[f"{SOURCES}/native.h", f"{SOURCES}/xxh64.h"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "filters.dns._fastpath",
            ["src/filters/dns/csrc/fastpath.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
    ]
)
