"""The emulator's own tests use the root conftest's `deployment` (provisioned once per worker, restored
from a snapshot per test); test_provisioning.py provisions afresh, since provisioning is what it checks."""
