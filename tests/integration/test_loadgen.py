"""loadgen against a real ecifd: closed loop, open loop and a dead address.

ecifd serves a snapshot of a few records, and loadgen sends those same
records as its queries, so every GetExposure resolves to a MATCH and
every call must return OK. Each run is 1.5 s after a 0.5 s warm-up.
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LOADGEN = os.environ.get("ECIF_LOADGEN")

PEOPLE = [
    {"source_system": "CORE", "source_id": f"P{i}", "name": name,
     "id_type": "RESIDENT_ID", "id_number": f"ID{i:06d}{i * 37 % 1000:03d}",
     "phone": f"1390000{i:04d}", "dob": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}"}
    for i, name in enumerate([
        "Zhang Wei", "Li Na", "Wang Fang", "Liu Yang", "Chen Jing",
        "Anna Berg", "Omar Haddad", "Sofia Rossi",
    ])
]
ACCOUNTS = [
    {"source_system": "CORE", "source_id": p["source_id"],
     "account_id": f"L{n}", "product": "loan",
     "credit_limit": f"{(n + 1) * 1000}", "balance": f"{n * 10}.5",
     "currency": "CNY", "branch": "Main"}
    for n, p in enumerate(PEOPLE)
]

DURATION = "1.5"
WARMUP = "0.5"
OPEN_RATE = 400.0
# A run lasts 2 s plus at most one call deadline; this bounds a hang.
RUN_TIMEOUT = 60

LATENCY_FIELDS = ["count", "min", "p50", "p90", "p99", "p99_9", "max",
                  "mean", "below_range", "above_range"]
RUN_FIELDS = ["mode", "concurrency", "rate", "warmup_s", "duration_s",
              "calls", "ok", "errors", "throughput", "ok_throughput", "sent",
              "achieved_rate", "late_sends", "max_send_lag_ms",
              "errors_by_status", "latency_us", "methods"]


class LoadgenTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        if LOADGEN is None or not os.access(LOADGEN, os.X_OK):
            raise unittest.SkipTest(
                f"ECIF_LOADGEN does not name a program (got {LOADGEN!r}); "
                "loadgen is built when BUILD_BENCH is on")
        cls.work = harness.make_work_dir()
        cls.pb, cls.pb_grpc, cls.health_pb2 = harness.generate_stubs(
            os.path.join(cls.work.name, "stubs"))
        snapshot = harness.import_snapshot(cls.work.name, PEOPLE, ACCOUNTS)
        cls.queries = os.path.join(cls.work.name, "records.csv")
        cls.server = harness.Ecifd(snapshot, cls.work.name)
        cls.server.wait_serving(cls.health_pb2)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.work.cleanup()
        if rc != 0:
            raise AssertionError(f"ecifd exited with {rc}; log:\n{log}")

    def run_loadgen(self, server, *args, env=None):
        """Run loadgen, return (exit code, parsed JSON, stdout+stderr)."""
        out = os.path.join(self.work.name, f"loadgen-{len(args)}.json")
        if os.path.exists(out):
            os.remove(out)
        proc = subprocess.run(
            [LOADGEN, "--server", server, "--queries", self.queries,
             "--duration", DURATION, "--warmup", WARMUP, "--json", out]
            + list(args),
            capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
        output = proc.stdout + proc.stderr
        self.assertTrue(os.path.exists(out),
                        f"loadgen wrote no JSON; output:\n{output}")
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
        return proc.returncode, report, output

    def check_latency(self, latency, what):
        for field in LATENCY_FIELDS:
            self.assertIn(field, latency, what)
        self.assertGreater(latency["count"], 0, what)
        self.assertGreater(latency["min"], 0, what)
        self.assertLessEqual(latency["min"], latency["p50"], what)
        self.assertLessEqual(latency["p50"], latency["p90"], what)
        self.assertLessEqual(latency["p90"], latency["p99"], what)
        self.assertLessEqual(latency["p99"], latency["p99_9"], what)
        self.assertLessEqual(latency["p99_9"], latency["max"], what)

    def check_clean_run(self, run, output):
        for field in RUN_FIELDS:
            self.assertIn(field, run)
        self.assertEqual(run["errors"], 0, output)
        self.assertEqual(run["errors_by_status"], {}, output)
        self.assertGreater(run["calls"], 0, output)
        self.assertEqual(run["ok"], run["calls"])
        self.assertGreater(run["throughput"], 0)
        self.check_latency(run["latency_us"], "all methods")
        self.assertEqual(set(run["methods"]),
                         {"resolve", "exposure", "health"})
        total = 0
        for name, method in run["methods"].items():
            self.assertEqual(method["errors"], 0, f"{name}: {output}")
            self.check_latency(method["latency_us"], name)
            self.assertEqual(method["latency_us"]["count"], method["calls"])
            total += method["calls"]
        self.assertEqual(total, run["calls"])

    def test_closed_loop_clean_run(self):
        rc, report, output = self.run_loadgen(
            self.server.address, "--mode", "closed", "--concurrency", "4",
            "--threads", "2")
        self.assertEqual(rc, 0, output)
        self.assertEqual(report["queries"], len(PEOPLE))
        self.assertEqual(report["threads"], 2)
        self.assertEqual(len(report["runs"]), 1)
        run = report["runs"][0]
        self.assertEqual(run["mode"], "closed")
        self.assertEqual(run["concurrency"], 4)
        self.check_clean_run(run, output)
        # The default mix is 70/20/10, so Resolve is the most frequent.
        methods = run["methods"]
        self.assertGreater(methods["resolve"]["calls"],
                           methods["exposure"]["calls"])
        self.assertGreater(methods["exposure"]["calls"],
                           methods["health"]["calls"])

    def test_token_file_sent_with_every_call(self):
        folder = os.path.join(self.work.name, "guarded")
        os.makedirs(folder)
        proc = subprocess.run(
            [harness.ECIFCTL, "token", "--principal", "bench",
             "--scopes", "resolve,exposure"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)

        token_file = os.path.join(folder, "bench.token")
        access = os.path.join(folder, "access")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(proc.stdout)
        with open(access, "w", encoding="utf-8") as f:
            f.write(proc.stderr)
        os.chmod(access, 0o600)
        os.chmod(token_file, 0o600)

        snapshot = harness.import_snapshot(folder, PEOPLE, ACCOUNTS)
        server = harness.Ecifd(snapshot, folder, ["--access", access])
        try:
            server.wait_serving(self.health_pb2)
            env = dict(os.environ, ECIF_TOKEN_FILE=token_file)
            rc, report, output = self.run_loadgen(
                server.address, "--mode", "closed", "--concurrency", "2",
                "--threads", "1", env=env)
            self.assertEqual(rc, 0, output)
            self.check_clean_run(report["runs"][0], output)

            # Without the token every call fails.
            rc, report, output = self.run_loadgen(
                server.address, "--mode", "closed", "--concurrency", "2",
                "--threads", "1", "--mix", "resolve=1")
            self.assertEqual(report["runs"][0]["ok"], 0, output)
            self.assertIn("UNAUTHENTICATED",
                          report["runs"][0]["errors_by_status"], output)
        finally:
            self.assertEqual(server.stop(), 0, server.read_log())

    def test_open_loop_achieves_rate(self):
        rc, report, output = self.run_loadgen(
            self.server.address, "--mode", "open", "--rate", str(OPEN_RATE))
        self.assertEqual(rc, 0, output)
        run = report["runs"][0]
        self.assertEqual(run["mode"], "open")
        self.assertAlmostEqual(run["rate"], OPEN_RATE)
        self.check_clean_run(run, output)
        # Sends are scheduled at fixed times, so their count is exact
        # up to rounding at the window edges.
        expected = OPEN_RATE * float(DURATION)
        self.assertLessEqual(abs(run["sent"] - expected), 2, output)
        self.assertEqual(run["calls"], run["sent"])
        self.assertGreater(run["achieved_rate"], 0.9 * OPEN_RATE, output)
        self.assertLessEqual(run["achieved_rate"], 1.01 * OPEN_RATE, output)

    def test_mix_sends_only_weighted_methods(self):
        rc, report, output = self.run_loadgen(
            self.server.address, "--mode", "closed", "--concurrency", "2",
            "--mix", "health=1", "--duration", "0.5", "--warmup", "0")
        self.assertEqual(rc, 0, output)
        methods = report["runs"][0]["methods"]
        self.assertEqual(methods["resolve"]["calls"], 0)
        self.assertEqual(methods["exposure"]["calls"], 0)
        self.assertGreater(methods["health"]["calls"], 0)

    def test_sweep_reports_each_rate(self):
        rc, report, output = self.run_loadgen(
            self.server.address, "--sweep", "100,200",
            "--duration", "0.5", "--warmup", "0.2")
        self.assertEqual(rc, 0, output)
        runs = report["runs"]
        self.assertEqual([r["rate"] for r in runs], [100.0, 200.0])
        for run in runs:
            self.assertEqual(run["mode"], "open")
            self.check_clean_run(run, output)

    def test_dead_address_counts_unavailable(self):
        # Port 1 on loopback has no listener, so every connect is refused.
        rc, report, output = self.run_loadgen(
            "127.0.0.1:1", "--mode", "closed", "--concurrency", "2",
            "--deadline-ms", "2000")
        self.assertEqual(rc, 1, output)
        run = report["runs"][0]
        self.assertGreater(run["errors"], 0)
        self.assertEqual(run["ok"], 0)
        self.assertEqual(run["errors_by_status"],
                         {"UNAVAILABLE": run["errors"]})
        self.assertEqual(run["latency_us"]["count"], 0)

    def test_invalid_option_is_usage_error(self):
        proc = subprocess.run(
            [LOADGEN, "--server", self.server.address, "--queries",
             self.queries, "--mix", "resolve=0"],
            capture_output=True, text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--mix", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
