"""``python -m einvoice.sim NAME [--port N]``: serve one simulator in the foreground."""

import argparse
import importlib

SIMULATORS = {
    "anaf": "einvoice.sim.anaf:AnafSimulator",
    "ksef": "einvoice.sim.ksef:KsefSimulator",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m einvoice.sim", description="Serve a platform simulator.")
    parser.add_argument("name", choices=sorted(SIMULATORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    module_name, class_name = SIMULATORS[args.name].split(":")
    simulator = getattr(importlib.import_module(module_name), class_name)(host=args.host, port=args.port)
    print(f"{simulator.name} simulator listening on {simulator.url}", flush=True)
    simulator.serve_forever()


if __name__ == "__main__":
    main()
