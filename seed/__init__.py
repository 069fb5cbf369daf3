"""Reference data and the demo data generator."""
from .demo import DEMO_ACCOUNTS, generate  # noqa: F401
from .reference import load_reference  # noqa: F401
