"""``make campaign``: the hostile-input and the fault campaigns in full, with their figures.

``python -m campaign [--seed N] [--hostile N] [--faults N]``; exits 1 when either finds anything bad.
"""

import argparse
import sys

from . import faults, hostile


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m campaign", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hostile", type=int, default=500, metavar="N", help="hostile cases (default 500)")
    parser.add_argument("--faults", type=int, default=1000, metavar="N", help="fault runs (default 1000)")
    args = parser.parse_args(argv)
    import cryptography
    import lxml.etree
    import requests

    print(
        f"Python {sys.version.split()[0]}, lxml {lxml.etree.__version__}, cryptography {cryptography.__version__}, "
        f"requests {requests.__version__}; seed {args.seed}",
        flush=True,
    )
    report = hostile.run(args.seed, args.hostile)
    for name, problems in report.bad:
        print(f"  bad: {name}: {'; '.join(problems)}")
    print(report.line(), flush=True)
    tally = faults.run(args.seed, args.faults)
    for kind, cases in (("duplicate", tally.duplicates), ("lost", tally.lost), ("uncaught", tally.uncaught)):
        for case in cases:
            print(f"  {kind}: {case}")
    print(tally.line())
    return 1 if report.bad or tally.duplicates or tally.lost or tally.uncaught else 0


if __name__ == "__main__":
    sys.exit(main())
