"""Reference data and the demo data generator."""
from .demo import DEMO_ACCOUNTS, generate
from .reference import load_reference
