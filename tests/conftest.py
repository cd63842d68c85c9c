"""Hypothesis profiles and the ``slow`` marker.

``dev`` (the default) keeps each run quick and random; ``ci`` (chosen when ``CI`` is set, or by
``HYPOTHESIS_PROFILE=ci``) is derandomized, so a red CI is reproducible, not a dice roll. Tests that
start processes, kill them or build large databases are marked ``slow``: ``pytest -m "not slow"``
is the inner loop.
"""

from __future__ import annotations

import os

from hypothesis import settings

# The code catalogue's whole-run check (see tests/code_catalogue.py): its hooks, here.
from tests.code_catalogue import (
    pytest_configure,
    pytest_sessionfinish,
    pytest_testnodedown,
    pytest_unconfigure,
)

__all__ = ["pytest_configure", "pytest_sessionfinish", "pytest_testnodedown", "pytest_unconfigure"]

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
