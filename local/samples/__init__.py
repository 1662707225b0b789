"""Deterministic, seeded sample-data generators: realistic and awkward inputs for each pipeline."""
