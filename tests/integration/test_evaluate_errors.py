"""Integration test of `evaluate dedup --errors` and `--pairs`.

Imports six records with `ecifctl import`: one pair that clustering joins
although the truth gives two people, one pair of one person that it
leaves apart, and one pair it gets right. Runs the built evaluate
(bench/evaluate under ECIF_BUILD_DIR) and checks that exactly the two
wrong pairs are listed, each with its kind and a breakdown whose weights
sum to the score, and that `--pairs` lists the right pairs too, with the
wrong ones written exactly as `--errors` writes them.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

EVALUATE = os.path.join(os.environ.get("ECIF_BUILD_DIR", ""), "bench",
                        "evaluate")

RECORDS = [
    # One name, date and phone, but two people by the truth.
    {"source_system": "crm", "source_id": "a1", "given_name": "Harriet",
     "family_name": "Quennell", "dob": "1971-06-24",
     "phone": "+44 1233 612345"},
    {"source_system": "crm", "source_id": "a2", "given_name": "Harriet",
     "family_name": "Quennell", "dob": "1971-06-24",
     "phone": "+44 1233 612345"},
    # One person by the truth, with two unrelated dates of birth.
    {"source_system": "crm", "source_id": "b1", "given_name": "Tobias",
     "family_name": "Aldwinckle", "dob": "1960-03-15"},
    {"source_system": "crm", "source_id": "b2", "given_name": "Tobias",
     "family_name": "Aldwinckle", "dob": "1988-11-02"},
    # One person, joined: not an error.
    {"source_system": "crm", "source_id": "c1", "given_name": "Ottilie",
     "family_name": "Brackenbury", "dob": "1955-01-09",
     "phone": "+44 1632 960001"},
    {"source_system": "crm", "source_id": "c2", "given_name": "Ottilie",
     "family_name": "Brackenbury", "dob": "1955-01-09",
     "phone": "+44 1632 960001"},
]

TRUTH = {"a1": "A1", "a2": "A2", "b1": "B", "b2": "B", "c1": "C", "c2": "C"}


class EvaluateErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        if not os.access(EVALUATE, os.X_OK):
            raise unittest.SkipTest(
                f"evaluate not found at {EVALUATE!r}; build with BUILD_BENCH on")
        cls.work = harness.make_work_dir()
        cls.snapshot = harness.import_snapshot(cls.work.name, RECORDS, None)
        cls.truth = os.path.join(cls.work.name, "truth.csv")
        harness.write_csv(
            cls.truth, ["source_system", "source_id", "entity_id"],
            [{"source_system": "crm", "source_id": k, "entity_id": v}
             for k, v in TRUTH.items()])

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def run_evaluate(self, errors_path, *extra):
        return subprocess.run(
            [EVALUATE, "dedup", "--snapshot", self.snapshot,
             "--truth", "file:" + self.truth, "--errors", errors_path,
             *extra],
            capture_output=True, text=True, timeout=120)

    @staticmethod
    def read_rows(path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        return lines[0], [line.split("\t") for line in lines[1:]]

    def test_lists_wrong_pairs_only(self):
        path = os.path.join(self.work.name, "errors.tsv")
        proc = self.run_evaluate(path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertTrue(lines[0].startswith("# kind\t"), lines[0])
        rows = sorted(line.split("\t") for line in lines[1:])
        kinds = [(r[0], sorted([r[1], r[2]])) for r in rows]
        self.assertEqual(kinds, [
            ("false_join", ["crm/a1", "crm/a2"]),
            ("missed", ["crm/b1", "crm/b2"]),
        ])

    def test_breakdown_sums_to_score(self):
        path = os.path.join(self.work.name, "sums.tsv")
        proc = self.run_evaluate(path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f
                    if not line.startswith("#")]
        self.assertEqual(len(rows), 2)
        for row in rows:
            fields = dict(item.split("=", 1) for item in row[4:])
            self.assertEqual(sorted(fields), sorted([
                "name", "id_number", "phone", "email", "address", "dob",
                "gender"]))
            total = sum(float(v.rsplit(":", 1)[1]) for v in fields.values())
            self.assertAlmostEqual(total, float(row[3]), delta=0.01)
        missed = next(r for r in rows if r[0] == "missed")
        self.assertIn("name=exact:", "\t".join(missed))

    def test_pairs_lists_every_candidate_pair(self):
        errors = os.path.join(self.work.name, "both-errors.tsv")
        pairs = os.path.join(self.work.name, "both-pairs.tsv")
        proc = self.run_evaluate(errors, "--pairs", pairs)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        header, rows = self.read_rows(pairs)
        self.assertTrue(header.startswith("# kind\t"), header)
        kinds = sorted((r[0], sorted([r[1], r[2]])) for r in rows)
        self.assertEqual(kinds, [
            ("false_join", ["crm/a1", "crm/a2"]),
            ("joined", ["crm/c1", "crm/c2"]),
            ("missed", ["crm/b1", "crm/b2"]),
        ])
        _, error_rows = self.read_rows(errors)
        self.assertEqual(
            sorted(error_rows),
            sorted(r for r in rows if r[0] in ("false_join", "missed")))

    def test_pairs_and_errors_in_one_file_rejected(self):
        path = os.path.join(self.work.name, "one.tsv")
        proc = self.run_evaluate(path, "--pairs",
                                 os.path.join(self.work.name, ".", "one.tsv"))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--errors and --pairs both name", proc.stderr)

    def test_output_over_snapshot_rejected(self):
        with open(self.snapshot, "rb") as f:
            before = f.read()
        for option in ("--errors", "--pairs", "--json"):
            with self.subTest(option=option):
                proc = subprocess.run(
                    [EVALUATE, "dedup", "--snapshot", self.snapshot,
                     "--truth", "file:" + self.truth, option,
                     self.snapshot],
                    capture_output=True, text=True, timeout=120)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(f"{option} '{self.snapshot}' is the snapshot",
                              proc.stderr)
                with open(self.snapshot, "rb") as f:
                    self.assertEqual(f.read(), before)

    def test_unwritable_errors_path(self):
        path = os.path.join(self.work.name, "no-such-dir", "errors.tsv")
        proc = self.run_evaluate(path)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--errors", proc.stderr)
        self.assertIn(path, proc.stderr)


if __name__ == "__main__":
    unittest.main()
