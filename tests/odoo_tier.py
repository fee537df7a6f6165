"""The Odoo tier: every add-on's tests through Odoo's own test runner, on fresh PostgreSQL databases.

Scenarios (each on its own database, copied from one base with the Romanian and Polish localisations, where Odoo
auto-installs its own ``l10n_ro_edi`` / ``l10n_pl_edi``):

1. all three add-ons together next to Odoo's native e-invoicing modules, with their tests; then uninstalled,
   checking that nothing of them is left and the native modules still stand;
2. each country add-on alone, on a database where Odoo's native modules were removed first, with its tests (and the
   Odoo apps it works with, ``ALONGSIDE``);
3. on that database, several Odoo processes sending one queue to the platform's simulator, one of them killed in
   the middle (``odoo_workers.py``): every invoice accepted once, the platform's limits shared, no 429.

A scenario fails when Odoo exits non-zero, logs an ERROR or CRITICAL line, or runs none of our tests.
Without an importable Odoo 19 the tier prints one SKIPPED line and succeeds.
Environment: ``ODOO_ADDONS_PATH`` (extra add-on folders, comma-separated), ``ODOO_TIER_KEEP=1`` keeps databases.
"""

import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from artefacts import CIUS_RO_RULES, FA3_SCHEMA  # this script runs from tests/

ROOT = Path(__file__).resolve().parent.parent
WORKERS_SCRIPT = ROOT / "tests" / "odoo_workers.py"
OURS = ["account_einvoice", "l10n_ro_efactura", "l10n_pl_ksef"]
NATIVE = ["l10n_ro_edi", "l10n_pl_edi"]
# Odoo apps an add-on works with when they are there, installed beside it in scenario 2 so that its tests cover them
# (Sales: the down-payment invoices of a sales order and the final invoice deducting them)
ALONGSIDE = {"l10n_ro_efactura": ["sale"], "l10n_pl_ksef": ["sale"]}
RESULT_LINE = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
PROBLEM_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
# "2026-11-22 12:05:57,613 11852 INFO db odoo.addons.x.tests.test_y: Starting TestZ.test_w ..."
STARTING_LINE = re.compile(r"^(\S+ \S+) \d+ INFO \S+ \S+: Starting (\S+) \.\.\.")
STAMP = "%Y-%m-%d %H:%M:%S,%f"


def odoo_version():
    try:
        import odoo.release
    except ImportError:
        return None
    return odoo.release.version_info


def community_addons_path():
    import odoo

    paths = [str(ROOT)]
    paths += [p for p in os.environ.get("ODOO_ADDONS_PATH", "").split(",") if p]
    for package_dir in odoo.__path__:
        candidate = Path(package_dir).parent / "addons"
        if (candidate / "account" / "__manifest__.py").is_file():
            paths.append(str(candidate))
    return ",".join(paths)


def official_artefacts():
    """The environment of Odoo, with the official rules the add-ons' tests hold what they produce against: each from
    its variable, else beside the checkout (../shared). Says which ones are missing, so lost coverage shows."""
    env = dict(os.environ)
    for artefact in (CIUS_RO_RULES, FA3_SCHEMA):
        location = artefact.location()
        if location is not None:
            env.setdefault(artefact.env, str(location))
    return env


def missing_artefacts():
    return [artefact.env for artefact in (CIUS_RO_RULES, FA3_SCHEMA) if artefact.location() is None]


def sql_names(names):
    """A SQL list of module names; they are this script's own constants, never user input."""
    return ", ".join(f"'{name}'" for name in names)


def active_crons_of(module):
    return (
        "select count(*) from ir_cron c join ir_model_data d on d.model = 'ir.cron' and d.res_id = c.id "  # noqa: S608
        f"where d.module = '{module}' and c.active"
    )


def slowest_tests(lines, count=3):
    """The tests that took longest, from the moments Odoo logged their start: each is counted until the next one
    starts (a class's set-up goes to the test before it)."""
    starts = [(datetime.strptime(m.group(1), STAMP), m.group(2)) for m in map(STARTING_LINE.match, lines) if m]
    took = sorted(
        ((following - started).total_seconds(), name)
        for (started, name), (following, _next) in itertools.pairwise(starts)
    )
    return ", ".join(f"{name} {seconds:.0f}s" for seconds, name in reversed(took[-count:])) or "-"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Tier:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.prefix = f"einv_tier_{os.getpid()}"
        self.config = self.workdir / "odoo.conf"
        self.config.write_text(
            "[options]\n"
            f"addons_path = {community_addons_path()}\n"
            f"data_dir = {self.workdir / 'data'}\n"
            f"http_port = {free_port()}\n"
            "http_interface = 127.0.0.1\n"
            "max_cron_threads = 0\n"
            # the official rules' XSLT processor reserves more address space than Odoo's default hard limit allows
            "limit_memory_hard = 0\n"
            "log_level = info\n"
        )
        self.databases = []
        self.logs = 0
        self.problems = []  # shown again at the end, where a shortened output still shows them
        self.passed = 0
        self.failed = 0

    def db(self, name):
        return f"{self.prefix}_{name}"

    def odoo(self, *args, label, expect_tests=False):
        """Run Odoo with the tier's configuration; return the number of tests it ran, or None on failure."""
        command = [sys.executable, "-m", "odoo", *args]
        self.logs += 1
        log = self.workdir / f"{self.logs:02d} {label}.log"  # numbered: each step's log is kept apart
        started = time.monotonic()
        with log.open("w") as output:
            returncode = subprocess.call(
                command, stdout=output, stderr=subprocess.STDOUT, cwd=self.workdir, env=official_artefacts()
            )
        lines = log.read_text(errors="replace").splitlines()
        problems = [line for line in lines if PROBLEM_LINE.match(line)]
        results = [RESULT_LINE.search(line) for line in lines]
        results = [match for match in results if match]
        tests = sum(int(m.group(3)) for m in results)
        failures = sum(int(m.group(1)) + int(m.group(2)) for m in results)
        ok = returncode == 0 and not problems and not failures and (tests > 0 or not expect_tests)
        elapsed = time.monotonic() - started
        summary = f"{tests} tests, {failures} failed" if expect_tests else "ok" if ok else "failed"
        print(f"  {label}: {summary} ({elapsed:.0f}s){'' if ok else f' -- see {log}'}", flush=True)
        if expect_tests and tests:
            print(f"    slowest: {slowest_tests(lines)}", flush=True)
        if not ok:
            shown = (problems or lines[-30:])[:40]
            self.problems += [f"{label} ({log.name}):", *shown]
            for line in shown:
                print(f"    | {line}")
            if expect_tests and not tests and returncode == 0 and not problems:
                print("    | no test of ours ran")
        if expect_tests:
            self.passed += tests - failures
            self.failed += failures or (0 if ok else 1)
        elif not ok:
            self.failed += 1
        return tests if ok else None

    def install(self, database, modules, *, label, test_modules=()):
        args = ["-c", str(self.config), "-d", database, "-i", ",".join(modules), "--stop-after-init"]
        if test_modules:
            args += ["--test-tags", ",".join(f"/{module}" for module in test_modules)]
        if database not in self.databases:
            self.databases.append(database)
        return self.odoo(*args, label=label, expect_tests=bool(test_modules))

    def duplicate(self, source, target):
        self.databases.append(target)
        return self.odoo("db", "-c", str(self.config), "duplicate", source, target, label=f"copy {target}")

    def uninstall(self, database, modules, *, label):
        return self.odoo("module", "uninstall", "-c", str(self.config), "-d", database, *modules, label=label)

    def sql(self, database, query):
        output = subprocess.run(
            ["psql", "-XAtq", "-d", database, "-c", query], capture_output=True, text=True, check=True
        )
        return output.stdout.strip()

    def check(self, condition, label, detail=""):
        print(f"  {label}: {'ok' if condition else 'FAILED ' + detail}", flush=True)
        if condition:
            self.passed += 1
        else:
            self.failed += 1

    def drop_all(self):
        for database in reversed(self.databases):
            subprocess.call(["dropdb", "--if-exists", "--force", database], stderr=subprocess.DEVNULL)

    def module_states(self, database, modules):
        query = f"select name, state from ir_module_module where name in ({sql_names(modules)})"  # noqa: S608
        rows = self.sql(database, query)
        return dict(row.split("|") for row in rows.splitlines() if row)

    # -- scenarios ----------------------------------------------------------------------------------------------
    def run(self):
        base = self.db("base")
        print("Odoo tier: base database with the Romanian and Polish localisations", flush=True)
        if self.install(base, ["account", "l10n_ro", "l10n_pl"], label="base") is None:
            return
        # the copies start with true statistics, not whatever autovacuum last saw in the middle of the install
        self.sql(base, "VACUUM ANALYZE")
        native = self.module_states(base, NATIVE)

        print("Scenario 1: our add-ons together, next to Odoo's native e-invoicing modules", flush=True)
        together = self.db("together")
        if self.duplicate(base, together) is not None:
            native_crons = {module: active_crons_of(module) for module in NATIVE}
            running = {module: self.sql(together, query) for module, query in native_crons.items()}
            self.install(together, OURS, label="install + tests", test_modules=OURS)
            for module, query in native_crons.items():
                self.check(self.sql(together, query) == "0", f"{module}'s crons paused while ours are installed")
            native_after = self.module_states(together, NATIVE)
            self.check(native_after == native, "native modules unchanged", f"{native} -> {native_after}")
            self.uninstall(together, OURS, label="uninstall ours")
            states = self.module_states(together, OURS)
            query = f"select count(*) from ir_model_data where module in ({sql_names(OURS)})"  # noqa: S608
            left = self.sql(together, query)
            table = self.sql(together, "select to_regclass('account_einvoice_document') is not null")
            self.check(
                set(states.values()) == {"uninstalled"} and left == "0" and table == "f",
                "uninstall leaves nothing behind",
                f"states={states} xmlids={left} table={table}",
            )
            self.check(self.module_states(together, NATIVE) == native, "native modules still installed after uninstall")
            for module, query in native_crons.items():
                self.check(self.sql(together, query) == running[module], f"{module}'s crons restored after uninstall")

        for module, country in (("l10n_ro_efactura", "ro"), ("l10n_pl_ksef", "pl")):
            print(f"Scenario 2/{country}: {module} alone, without Odoo's native e-invoicing modules", flush=True)
            alone = self.db(f"{country}_alone")
            if self.duplicate(base, alone) is None:
                continue
            installed_native = [name for name, state in native.items() if state == "installed"]
            if installed_native:
                self.uninstall(alone, installed_native, label="uninstall native")
            self.install(
                alone,
                [module, *ALONGSIDE.get(module, ())],
                label="install + tests",
                test_modules=[module, "account_einvoice"],
            )
            self.check(
                all(state != "installed" for state in self.module_states(alone, NATIVE).values()),
                "native modules stay uninstalled",
            )
            self.many_workers(alone, country)

    def many_workers(self, database, country):
        """Several Odoo processes send one queue to the simulator, one killed midway (tests/odoo_workers.py)."""
        print(f"Scenario 3/{country}: {WORKERS_SCRIPT.name}, many workers sharing the platform's limits", flush=True)
        self.logs += 1
        log = self.workdir / f"{self.logs:02d} workers {country}.log"
        command = [sys.executable, str(WORKERS_SCRIPT), "-c", str(self.config), "-d", database, "--platform", country]
        started = time.monotonic()
        with log.open("w") as output:
            returncode = subprocess.call(command, stdout=output, stderr=subprocess.STDOUT, cwd=self.workdir)
        lines = log.read_text(errors="replace").splitlines()
        for line in lines:
            print(line, flush=True)
        checks = [line for line in lines if re.match(r"^    [^ ].*: (ok|FAILED)", line)]
        failed = [line for line in checks if ": FAILED" in line]
        self.passed += len(checks) - len(failed)
        self.failed += len(failed) or (1 if returncode else 0)
        if failed or returncode:
            self.problems += [f"workers {country} ({log.name}):", *(failed or lines[-30:])]
        elapsed = time.monotonic() - started
        print(f"  workers: {len(checks) - len(failed)} checks ok, {len(failed)} failed ({elapsed:.0f}s)", flush=True)


def main():
    version = odoo_version()
    if not version or version[0] != 19:
        found = f"Odoo {version[0]}" if version else "no Odoo"
        print(f"SKIPPED: Odoo tier -- {found} importable by {sys.executable}; install Odoo 19 to run the add-on tests")
        return 0
    missing = missing_artefacts()
    if missing:  # the add-ons' tests then hold their documents against our own checks only
        print(f"official artefacts missing for the add-ons' tests: {', '.join(missing)} (the FA(3) schema then comes "
              "from the ksef-client package when it is installed)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="einvoice-odoo-tier-") as workdir:
        tier = Tier(workdir)
        try:
            tier.run()
        finally:
            if os.environ.get("ODOO_TIER_KEEP") != "1":
                tier.drop_all()
            if tier.failed:
                kept = Path(tempfile.mkdtemp(prefix="einvoice-odoo-logs-"))
                for log in Path(workdir).glob("*.log"):
                    log.rename(kept / log.name)
                print(f"Logs kept in {kept}")
                for line in tier.problems:
                    print(f"  | {line}")
        print(f"odoo: {tier.passed} passed, {tier.failed} failed")
        return 1 if tier.failed else 0


if __name__ == "__main__":
    sys.exit(main())
