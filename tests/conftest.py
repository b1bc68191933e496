import os
import sys

import numpy as np
import pytest

# tests import `naive` as a module
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    return np.random.default_rng(20241204)
