"""Shared fixtures for the kit's own tests."""
import pytest

from autograder.sandbox.client import WorkerImpl, load_submission


@pytest.fixture(scope="session")
def reference_impl():
    """solutions/ running in a worker, shared by the tests that only read from it."""
    with WorkerImpl(load_submission("solutions")) as impl:
        yield impl
