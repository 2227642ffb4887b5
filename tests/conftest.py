"""Session-wide settings for the tests."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def chapter_kernel_environment():
    """Tests that execute chapters with papermill get the environment `agser book` gives.

    The inline matplotlib backend (a user's ``MPLBACKEND=Agg`` would leave the
    notebooks without figures), the Hugging Face offline switches, and this
    environment's own ``python3`` kernel.
    """
    from agser.book import _kernel_environment

    with _kernel_environment():
        yield
