"""`studio demo` (being written)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="not written yet")
    p.set_defaults(func=lambda args: 1)
