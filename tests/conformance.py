"""The conformance page: for each platform, every operation of its official description, whether our simulator
serves it and whether our client uses it. ``python -m tests.conformance`` prints it; ``--write`` puts it in
README.rst between its markers.

*Served* is read from the simulators' own routes (a request to the operation's path reaches a handler).
*Used by our client* is what the last full test run saw our client call (``build/client-operations.json``, written
by the tests' contract checking; the requests of the tests themselves and of third-party clients do not count).
"""

import json
import re
import sys
from pathlib import Path

from .contract import ANAF, CONFORMANCE_RECORD, KSEF, Contract

README = Path(__file__).resolve().parent.parent / "README.rst"
BEGIN, END = ".. conformance: begin", ".. conformance: end"
# a value of each path parameter the simulators' routes accept
SAMPLES = {
    "ksefNumber": "5265877635-20250826-0100001AF629-AF",
    "certificateSerialNumber": "0123456789ABCDEF",
    "standard": "FACT1",
    "novld": "DA",
}
REFERENCE = "20250826-SO-0000000000-0000000000-00"
# where each simulator serves the described paths: ANAF's signature check lives outside FCTEL, at /api/validate
SERVED_UNDER = {"ksef": ("/v2",), "anaf": ("/prod/FCTEL/rest", "")}
TITLES = {"ksef": "KSeF 2.0 (the Ministry's open-api.json)", "anaf": "RO e-Factura (ANAF's swagger pages)"}


def simulator_routes(name):
    from einvoice.sim.anaf import AnafSimulator
    from einvoice.sim.ksef import KsefSimulator

    simulator = (KsefSimulator if name == "ksef" else AnafSimulator)()
    try:
        return [(method, pattern) for method, pattern, _handler in simulator._routes]
    finally:
        simulator.stop()


def served(routes, method, template, prefixes):
    path = re.sub(r"\{(\w+)\}", lambda match: SAMPLES.get(match.group(1), REFERENCE), template)
    return any(
        route_method == method and pattern.fullmatch(prefix + path)
        for route_method, pattern in routes
        for prefix in prefixes
    )


def table(name, contract, used):
    routes = simulator_routes(name)
    rows = []
    for description in contract.descriptions:
        for method, template, _regex in description.operations:
            operation = f"{method} {template}"
            rows.append((template, method, served(routes, method, template, SERVED_UNDER[name]), operation in used))
    rows.sort()
    served_count = sum(row[2] for row in rows)
    used_count = sum(row[3] for row in rows)
    lines = [
        TITLES[name],
        "-" * len(TITLES[name]),
        "",
        f"{len(rows)} operations described; the simulator serves {served_count}, our client uses {used_count}.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - Operation",
        "     - Simulator",
        "     - Our client",
    ]
    for template, method, is_served, is_used in rows:
        lines += [
            f"   * - ``{method} {template}``",
            f"     - {'yes' if is_served else ''}",
            f"     - {'yes' if is_used else ''}",
        ]
    return lines


def page():
    if not CONFORMANCE_RECORD.exists():
        raise SystemExit(f"{CONFORMANCE_RECORD} is missing: run the whole test suite first (make test).")
    used = json.loads(CONFORMANCE_RECORD.read_text(encoding="utf-8"))
    lines = []
    for platform in (KSEF, ANAF):
        contract = Contract.load(platform)
        if contract is None:
            raise SystemExit(f"The official description of {platform.name} (or openapi-core) is not available.")
        lines += [*table(platform.name, contract, set(used.get(platform.name, ()))), ""]
    return "\n".join(lines)


def main(argv):
    text = page()
    if "--write" not in argv:
        print(text)
        return
    readme = README.read_text(encoding="utf-8")
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    README.write_text(f"{readme[:start]}\n\n{text}\n{readme[end:]}", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
