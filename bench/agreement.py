"""Agreement of our checks with the official validators, per syntax and per rule id (differential testing).

``python -m bench.agreement [MUTATIONS] [SEED]`` (default 20000 mutations, seed 16931) judges every official example,
unit test and generated scenario and that many seeded mutations with both ANAF's CIUS-RO rules (UBL) or CEN's CII rules
and schema (CII) and our checks, and prints the figures; it lists every document we refuse and they accept (there
must be none) and exits 1 if there is one. The test suite runs the same with 5 000 mutations (tests/test_agreement.py).
"""

import sys
import time

from tests import agreement


def main(argv):
    count = int(argv[0]) if argv else 20000
    seed = int(argv[1]) if len(argv) > 1 else 16931
    started = time.perf_counter()
    result = agreement.run(count, seed)
    elapsed = time.perf_counter() - started
    print(f"{sum(result.documents.values())} documents judged by both sides in {elapsed:.1f} s (seed {seed})")
    for line in result.report_lines():
        print(line)
    print(f"\nrefused by us, accepted by the official rules: {len(result.refusals)}")
    for judgement in result.refusals:
        print(f"  {judgement.document.name}: ours {sorted(judgement.ours)}")
    print(f"other differences (listed, allowed): {len(result.differences)}")
    for judgement in result.differences[:50]:
        theirs = judgement.theirs & result.compared(judgement.document.syntax)
        print(
            f"  {judgement.document.name}: only ours {sorted(judgement.ours - theirs)}, "
            f"only theirs {sorted(theirs - judgement.ours)}"
        )
    return 1 if result.refusals else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
