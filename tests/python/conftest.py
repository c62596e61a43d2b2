"""pytest setup for the Python package's tests (tests/python/).

Run against the installed package (scripts/test.sh: pip install . into
build-py/venv) or the development route:
    SEQK_LIBRARY=build/src/libseqk.so PYTHONPATH=python pytest tests/python
"""
import numpy as np
import pytest

import seqk

AVAILABLE = [d.spec for d in seqk.devices() if d.available]
# The oracle, the best CPU ISA, and the first OpenCL device when there is
# one (PoCL compiles each program once per process; the shapes are small).
DEVICES = ["ref", "cpu"] + [s for s in AVAILABLE if s.startswith("opencl")][:1]


@pytest.fixture(params=DEVICES)
def ctx(request):
    with seqk.Context(request.param) as c:
        yield c


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def close(got, want, tol=1e-4):
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)
