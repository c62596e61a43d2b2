"""pytest setup for the Python package's tests (tests/python/).

Run against the installed package (scripts/test.sh: pip install . into
build-py/venv) or the development route:
    SEQK_LIBRARY=build/src/libseqk.so PYTHONPATH=python pytest tests/python
"""
import numpy as np
import pytest


def pytest_generate_tests(metafunc):
    # The oracle, the best CPU ISA, and the first OpenCL device when there
    # is one (PoCL compiles each program once per process; the shapes are
    # small).  seqk is imported only here and in the tests that use it, so
    # that test_report.py runs without libseqk.
    if "ctx" in metafunc.fixturenames:
        import seqk
        avail = [d.spec for d in seqk.devices() if d.available]
        devices = ["ref", "cpu"] + \
            [s for s in avail if s.startswith("opencl")][:1]
        metafunc.parametrize("ctx", devices, indirect=True)


@pytest.fixture
def ctx(request):
    import seqk
    with seqk.Context(request.param) as c:
        yield c


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def close(got, want, tol=1e-4):
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)
