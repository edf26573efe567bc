"""Runs a command and fails unless it exits with the given status."""
import subprocess
import sys

want = int(sys.argv[1])
got = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60).returncode
if got != want:
    sys.exit(f"expected exit {want}, got {got}: {sys.argv[2:]}")
