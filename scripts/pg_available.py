"""Exit 0 when the PostgreSQL server of the given URL answers, 1 otherwise."""

from __future__ import annotations

import sys

import psycopg


def main() -> int:
    url = sys.argv[1]
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return 0
    except psycopg.Error as exc:
        print(f"PostgreSQL at {url} does not answer ({exc.__class__.__name__}).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
