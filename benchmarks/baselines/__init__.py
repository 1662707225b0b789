"""The baselines of `make bench`: standalone scripts, each run as its own process on the job's input.

Each starts Spark with the recipe a job run by hand gets (local[2], 3 GB driver; jobs/_session.py), so a ratio
measures the code, not the settings.
"""
