"""``make bench``: run every benchmark of this folder and print its figures."""

import importlib
import pkgutil
import sys
from pathlib import Path

from einvoice.validation import ValidationUnavailableError

from .timing import Skipped


def main():
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    selected = [name for name in names if not sys.argv[1:] or any(arg in name for arg in sys.argv[1:])]
    skipped = {}
    for name in selected:
        short = name[len("bench_") :]
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {short}: {module.__doc__.strip().splitlines()[0]}")
        try:
            module.run()
        except (Skipped, ValidationUnavailableError) as reason:  # what it needs is not on this machine
            skipped[short] = str(reason)
            print(f"  SKIPPED: {reason}")
    print(f"\nbenchmarks: {len(selected) - len(skipped)} run, {len(skipped)} skipped")
    for short, reason in skipped.items():
        print(f"  {short}: {reason}")


if __name__ == "__main__":
    main()
