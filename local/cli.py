"""The command lines of `make run`, `make bench` and the query client: a mistake is one line on stderr, exit code 2."""

from __future__ import annotations

import argparse


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an unknown flag or a bad value prints one line (no usage block) and exits 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")
