"""Hypothesis runs derandomized on CI: a red CI must be reproducible, not a dice roll."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
