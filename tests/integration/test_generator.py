"""Integration test of bench/gen_customers, the synthetic customer generator.

Runs the built generator (ECIF_GEN). Checks determinism across seeds and
thread counts, the requested counts and Chinese share, the resident ID
check characters and the truth file. Checks that `ecifctl import` accepts
the CSV and JSONL output without rejected rows, and that a snapshot
written with --snapshot loads in ecifd and answers a Health check.
"""

import csv
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

GEN = os.environ.get("ECIF_GEN", "")
ECIFCTL = os.environ.get("ECIFCTL", "")

CUSTOMERS = 5000  # five blocks of 1024 customers, the last one partial
SHARE = 0.7
CORRUPTION = 0.3

# ISO 7064 MOD 11-2 weights and check characters of GB 11643.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK_CHARS = "10X98765432"

FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def check_char(first17):
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def upgrade15(id15):
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_char(first17)


def is_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def generate(out_dir, seed=1, threads=2, fmt="csv", extra=()):
    """Run the generator and return its stderr, failing on a nonzero exit."""
    cmd = [GEN, "--customers", str(CUSTOMERS), "--seed", str(seed),
           "--threads", str(threads), "--format", fmt,
           "--chinese-share", str(SHARE),
           "--corruption-rate", str(CORRUPTION),
           "--output-dir", out_dir] + list(extra)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(
            f"gen_customers exited with {proc.returncode}: {proc.stderr}")
    return proc.stderr


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def import_summary(snapshot, records, accounts):
    proc = subprocess.run(
        [ECIFCTL, "import", "--quiet", "--output", snapshot, "--accounts",
         accounts, records], capture_output=True, text=True, timeout=300)
    summary = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            summary[key] = value
    return proc.returncode, summary, proc.stderr


class GeneratorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not GEN or not os.access(GEN, os.X_OK):
            raise unittest.SkipTest(
                f"ECIF_GEN must name the built gen_customers (got {GEN!r}); "
                "build with BUILD_BENCH on and run through ctest")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ecif-gen-")
        cls.base = os.path.join(cls.tmp.name, "base")
        generate(cls.base)
        cls.records = read_csv(os.path.join(cls.base, "records.csv"))
        cls.truth = read_csv(os.path.join(cls.base, "truth.csv"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def assert_same_files(self, a, b, names):
        for name in names:
            self.assertTrue(
                filecmp.cmp(os.path.join(a, name), os.path.join(b, name),
                            shallow=False), f"{name} differs")

    def test_same_seed_is_byte_identical(self):
        names = ["records.csv", "accounts.csv", "truth.csv"]
        for threads in (1, 2, 3):
            with self.subTest(threads=threads):
                out = self.out(f"same-{threads}")
                generate(out, threads=threads)
                self.assert_same_files(self.base, out, names)

    def test_different_seed_differs(self):
        out = self.out("seed2")
        generate(out, seed=2)
        for name in ("records.csv", "accounts.csv", "truth.csv"):
            self.assertFalse(
                filecmp.cmp(os.path.join(self.base, name),
                            os.path.join(out, name), shallow=False),
                f"{name} is the same for seeds 1 and 2")

    def test_customer_count_and_share(self):
        entities = {row["entity_id"] for row in self.truth}
        self.assertEqual(len(entities), CUSTOMERS)

        by_entity = {}
        truth_of = {(t["source_system"], t["source_id"]): t["entity_id"]
                    for t in self.truth}
        for row in self.records:
            entity = truth_of[(row["source_system"], row["source_id"])]
            text = row["family_name"] + row["given_name"] + row["name"]
            by_entity.setdefault(entity, False)
            by_entity[entity] |= is_chinese(text)
        share = sum(by_entity.values()) / len(by_entity)
        # The binomial standard deviation at n=5000 is 0.0065, so 0.03 is over
        # four standard deviations.
        self.assertAlmostEqual(share, SHARE, delta=0.03)

        per_person = len(self.records) / CUSTOMERS
        self.assertGreater(per_person, 1.5)
        self.assertLess(per_person, 3.5)

    def test_chinese_share_bounds(self):
        for share, expect_chinese in ((0, False), (1, True)):
            with self.subTest(share=share):
                out = self.out(f"share-{share}")
                generate(out, extra=["--chinese-share", str(share),
                                     "--corruption-rate", "0"])
                rows = read_csv(os.path.join(out, "records.csv"))
                flags = {is_chinese(r["family_name"] + r["given_name"])
                         for r in rows}
                self.assertEqual(flags, {expect_chinese})

    def test_sources_limit_records_per_person(self):
        out = self.out("sources1")
        generate(out, extra=["--sources", "1"])
        rows = read_csv(os.path.join(out, "truth.csv"))
        self.assertEqual(len(rows), CUSTOMERS)

    def test_resident_ids_have_valid_check(self):
        truth_of = {(t["source_system"], t["source_id"]): t["entity_id"]
                    for t in self.truth}
        id18_of = {}
        fifteen = []
        checked = 0
        for row in self.records:
            if row["id_type"] != "RESIDENT_ID" or not row["id_number"]:
                continue
            number = row["id_number"].translate(FULLWIDTH_DIGITS)
            entity = truth_of[(row["source_system"], row["source_id"])]
            if len(number) == 15:
                self.assertTrue(number.isdigit(), number)
                self.assertLess(int(number[6:8]) + 1900, 2000)
                fifteen.append((entity, number))
                continue
            self.assertEqual(len(number), 18, number)
            self.assertEqual(number[17], check_char(number[:17]), number)
            id18_of.setdefault(entity, set()).add(number)
            checked += 1
        self.assertGreater(checked, 1000)
        self.assertGreater(len(fifteen), 0)
        for entity, number in fifteen:
            upgraded = upgrade15(number)
            self.assertEqual(upgraded[17], check_char(upgraded[:17]))
            if entity in id18_of:
                self.assertIn(upgraded, id18_of[entity])

    def test_truth_covers_every_record(self):
        record_keys = [(r["source_system"], r["source_id"])
                       for r in self.records]
        truth_keys = [(t["source_system"], t["source_id"])
                      for t in self.truth]
        self.assertEqual(len(record_keys), len(set(record_keys)))
        self.assertEqual(len(truth_keys), len(set(truth_keys)))
        self.assertEqual(set(record_keys), set(truth_keys))
        accounts = read_csv(os.path.join(self.base, "accounts.csv"))
        self.assertTrue(
            {(a["source_system"], a["source_id"]) for a in accounts}
            <= set(record_keys))

    def test_placeholders_present(self):
        phones = sum("13800138000" in r["phone"] for r in self.records)
        emails = sum(r["email"] == "123@abc.com" for r in self.records)
        self.assertGreater(phones, 0)
        self.assertGreater(emails, 0)

    def test_csv_imports_without_rejects(self):
        code, summary, err = import_summary(
            self.out("csv.snap"), os.path.join(self.base, "records.csv"),
            os.path.join(self.base, "accounts.csv"))
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["rejected"], "0", err)
        self.assertEqual(summary["records"], str(len(self.records)))

    def test_jsonl_parses_and_imports(self):
        out = self.out("jsonl")
        generate(out, fmt="jsonl")
        count = 0
        for name in ("records.jsonl", "accounts.jsonl", "truth.jsonl"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                for line in f:
                    obj = json.loads(line)
                    self.assertIsInstance(obj, dict)
                    if name == "records.jsonl":
                        count += 1
        self.assertEqual(count, len(self.records))

        code, summary, err = import_summary(
            self.out("jsonl.snap"), os.path.join(out, "records.jsonl"),
            os.path.join(out, "accounts.jsonl"))
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["rejected"], "0", err)

    def test_snapshot_serves_health(self):
        harness.require_programs()
        out = self.out("snap")
        snapshot = os.path.join(out, "customers.snap")
        generate(out, extra=["--snapshot", snapshot])
        self.assertTrue(os.path.exists(snapshot))
        truth = read_csv(os.path.join(out, "truth.csv"))
        self.assertEqual(len(truth), len(self.records))

        _, _, health_pb2 = harness.generate_stubs(self.out("stubs"))
        server = harness.Ecifd(snapshot, out)
        try:
            check = harness.health_check_method(server.channel, health_pb2)
            server.wait_serving(health_pb2)
            reply = check(health_pb2.HealthCheckRequest(), timeout=5)
            self.assertEqual(reply.status,
                             health_pb2.HealthCheckResponse.SERVING)
        finally:
            self.assertEqual(server.stop(), 0, server.read_log())


if __name__ == "__main__":
    unittest.main()
