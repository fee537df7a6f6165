"""``make bench``: run every benchmark of this folder and print its figures."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main():
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    selected = [name for name in names if not sys.argv[1:] or any(arg in name for arg in sys.argv[1:])]
    for name in selected:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name[len('bench_') :]}: {module.__doc__.strip().splitlines()[0]}")
        module.run()


if __name__ == "__main__":
    main()
