"""``python -m skexplain``: the command line lives in :mod:`skexplain._cli`."""

import sys

from skexplain._cli import explain_dataset, main, report

__all__ = ["main", "report", "explain_dataset"]

if __name__ == "__main__":
    sys.exit(main())
