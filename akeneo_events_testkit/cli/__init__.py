"""The ``akeneo-events`` command: thin wrappers that parse options and call the layers below.

Exit codes: 0 success, 1 a check failed (invalid payload, signature mismatch, receiver violations),
2 a usage error (bad option, unreadable file, unknown profile, unreachable receiver).

:mod:`.parser` declares the commands; :mod:`.payload` (validate, sign, verify) and :mod:`.run` (emit, serve,
fuzz, replay) carry them out through the wire profile's interface; :mod:`.output` writes the reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..errors import KitError, UsageError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args, sys.stdout)
        return code
    except UsageError as exc:
        print(f"akeneo-events {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KitError as exc:
        print(f"akeneo-events {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
