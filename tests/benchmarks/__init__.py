"""Tests of benchmarks/ (the harness only: the measurements themselves run in `make bench`)."""
