#!/bin/bash
# EMR bootstrap action: the Python packages the jobs import beyond EMR's own (py7zr, for .7z inputs).
# Runs on every node before Spark starts; needs a route to PyPI (NAT gateway) or a mirror in PIP_INDEX_URL.
set -euo pipefail
sudo python3 -m pip install --quiet 'py7zr>=1.0,<2'
