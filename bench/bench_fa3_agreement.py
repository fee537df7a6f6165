"""FA(3) checks against the official schema and KSeF's checks: agreement over samples and seeded mutations.

The documents are every FA(3) sample, every generated scenario and their mutations (tests/fa3_agreement.py); our
checks may accept what the oracle refuses, never refuse what it accepts.
"""

import time

from tests import fa3_agreement


def run():
    documents = fa3_agreement.corpus()
    started = time.perf_counter()
    result = fa3_agreement.run(documents)
    seconds = time.perf_counter() - started
    print(f"  {len(documents)} documents, {result.cases} cases (seed {fa3_agreement.SEED}) in {seconds:.1f} s")
    print(f"  agree: {result.agreeing} ({result.agreeing / result.cases:.1%})")
    print(f"    both accept:                 {result.both_accept:6}")
    print(f"    both refuse:                 {result.both_refuse:6}")
    print(f"  the oracle refuses, we accept: {result.only_oracle_refuses:6}  (what only the schema checks)")
    print(f"  we refuse, the oracle accepts: {len(result.stricter):6}  (must be 0)")
    print(f"  accepted, not converted:       {len(result.conversion_refused):6}  (must be 0)")
    print(f"  accepted with our warnings:    {result.warnings_on_accepted:6}")
    for rule, count in result.warning_rules.most_common():
        print(f"    {rule:12} {count:6}")
    for name, findings in result.stricter[:20]:
        print(f"  STRICTER {name}: {'; '.join(findings)}")
