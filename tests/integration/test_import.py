"""Integration test of `ecifctl import` on the fixtures in tests/data/import.

Runs the built ecifctl (ECIFCTL) on canonical CSV and JSONL files. Checks
the summary counts, the report of each rejected row and the invalid-share
limit. When ECIF_DATA_DIR points at a folder of public record-linkage
files, imports them through the mappings in tools/mappings.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ECIFCTL = os.environ.get("ECIFCTL", "")
SOURCE_DIR = os.environ.get("ECIF_SOURCE_DIR", "")
FIXTURES = os.path.join(SOURCE_DIR, "tests", "data", "import")
MAPPINGS = os.path.join(SOURCE_DIR, "tools", "mappings")

# Public data sets: (folder under ECIF_DATA_DIR, mapping, files, share of
# rows allowed to be rejected). Each file is imported on its own because
# the files of one folder reuse record ids.
DATASETS = [
    ("febrl", "febrl.map", ["dataset1.csv", "dataset4a.csv",
                            "dataset4b.csv"], 0.0),
    ("febrl-dsgen-series", "febrl-dsgen.map",
     ["dedup/dataset_A_1000.csv", "dedup/dataset_C_1000.csv",
      "link/dataset_D_org_1000.csv"], 0.05),
    ("rldata", "rldata.map", ["RLdata500.csv"], 0.0),
    ("splink-fake", "splink-fake.map", ["fake_1000.csv"], 0.05),
    ("splink-historical-50k", "splink-historical.map",
     ["historical_figures_with_errors_50k.csv"], 0.05),
    ("census-secondstring", "census.map",
     ["censusTextSegmentedA.tsv", "censusTextSegmentedB.tsv"], 0.05),
    ("blockingpy-geco-foreigners", "geco-foreigners.map",
     ["data_1500.csv"], 0.0),
]


def run_import(args):
    """Runs ecifctl import and returns (exit code, stdout, stderr)."""
    proc = subprocess.run([ECIFCTL, "import", "--quiet"] + args,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def parse_summary(stdout):
    """Parses the `key: value` summary lines into a dict of strings."""
    summary = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            summary[key] = value
    return summary


def fixture(name):
    return os.path.join(FIXTURES, name)


class ImportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ecif-import-")
        self.snapshot = os.path.join(self.tmp.name, "out.snap")

    def tearDown(self):
        self.tmp.cleanup()

    def test_canonical_csv_and_jsonl(self):
        code, out, err = run_import([
            "--output", self.snapshot,
            "--accounts", fixture("accounts.csv"),
            fixture("records.csv"), fixture("records-bom-crlf.csv"),
            fixture("records.jsonl")])
        self.assertEqual(code, 0, err)
        summary = parse_summary(out)
        self.assertEqual(summary["files"], "4")
        # 4 + 4 + 3 records and 3 accounts.
        self.assertEqual(summary["rows read"], "14")
        self.assertEqual(summary["imported"], "14")
        self.assertEqual(summary["rejected"], "0")
        self.assertEqual(summary["records"], "11")
        self.assertEqual(summary["accounts"], "3")
        self.assertGreater(int(summary["customers"]), 0)
        self.assertLessEqual(int(summary["customers"]), 11)
        self.assertEqual(int(summary["snapshot bytes"]),
                         os.path.getsize(self.snapshot))
        self.assertIn("ignoring 1 unknown column: 'branch_note'", err)

    def test_bom_crlf_reads_like_plain(self):
        """The BOM and CRLF copy imports the same count as the plain file."""
        counts = []
        for name in ("records.csv", "records-bom-crlf.csv"):
            code, out, err = run_import(["--output", self.snapshot,
                                         fixture(name)])
            self.assertEqual(code, 0, err)
            summary = parse_summary(out)
            counts.append((summary["records"], summary["keys"]))
        self.assertEqual(counts[0], counts[1])

    def test_bad_rows_reported(self):
        path = fixture("bad-rows.csv")
        code, out, err = run_import(["--output", self.snapshot,
                                     "--max-invalid-share", "1", path])
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:3: column 'dob': invalid date '1999-13'", err)
        self.assertIn(f"{path}:4: column 'gender': invalid gender 'X'", err)
        self.assertIn(f"{path}:5: character 16: 3 fields, expected 7", err)
        self.assertIn(f"{path}:6: column 'source_id': duplicate record '1'",
                      err)
        self.assertIn(f"{path}:7: column 'email': invalid email address "
                      f"'not-an-email'", err)
        summary = parse_summary(out)
        self.assertEqual(summary["rows read"], "7")
        self.assertEqual(summary["imported"], "2")
        self.assertEqual(summary["rejected"],
                         "5 (malformed 1, invalid 3, duplicate 1)")

    def test_mapped_column_named(self):
        """A rejected mapped field names the source column."""
        path = os.path.join(self.tmp.name, "mapped.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("sys,id,birth\ncrm,1,1980-01-01\ncrm,2,13.1980\n")
        code, out, err = run_import([
            "--output", self.snapshot, "--max-invalid-share", "1",
            "--map", "source_system=sys", "--map", "source_id=id",
            "--map", "dob=birth", path])
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:3: column 'birth': invalid date '13.1980'",
                      err)

    def import_with_account(self, row):
        """Import the fixture records and accounts plus one account row.

        The row is line 5 of the accounts file. Return the accounts path,
        the exit code, stdout and stderr.
        """
        path = os.path.join(self.tmp.name, "accounts.csv")
        with open(fixture("accounts.csv"), encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + row + "\n")
        code, out, err = run_import([
            "--output", self.snapshot, "--max-invalid-share", "1",
            "--accounts", path, fixture("records.csv")])
        return path, code, out, err

    def test_bad_amount_reported(self):
        path, code, out, err = self.import_with_account(
            "core,1002,D-10,deposit,,12.34567,CNY,SH02")
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:5: column 'balance': invalid amount "
                      f"'12.34567'", err)
        self.assertEqual(parse_summary(out)["accounts"], "3")

    def test_orphan_account_rejected(self):
        path, code, out, err = self.import_with_account(
            "core,9999,L-99,loan,100,1,CNY,SH02")
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:5: column 'source_id': no record '9999' in "
                      f"source system 'core' for account 'L-99'", err)
        summary = parse_summary(out)
        self.assertEqual(summary["accounts"], "3")
        self.assertIn("no record 1", summary["rejected"])

    def test_account_id_with_space_rejected(self):
        path, code, out, err = self.import_with_account(
            'core,1002," L-97",loan,100,0,CNY,SH02')
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:5: ", err)
        self.assertIn("column 'account_id': space at the start or end of "
                      "' L-97'", err)
        self.assertEqual(parse_summary(out)["accounts"], "3")

    def test_account_amount_out_of_range(self):
        path, code, out, err = self.import_with_account(
            "core,1002,L-98,loan,1000000000001,0,CNY,SH02")
        self.assertEqual(code, 0, err)
        self.assertIn(f"{path}:5: ", err)
        self.assertIn("'1000000000001.00' is outside the accepted range",
                      err)

    def test_duplicate_header_column(self):
        path = os.path.join(self.tmp.name, "dup.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("source_system,source_id,name,name\ncore,1,Li Wei,X\n")
        code, out, err = run_import(["--output", self.snapshot, path])
        self.assertEqual(code, 1, err)
        self.assertIn("duplicate column 'name' (columns 3 and 4)", err)
        self.assertFalse(os.path.exists(self.snapshot))

    def test_output_equal_to_input_refused(self):
        path = os.path.join(self.tmp.name, "records.csv")
        shutil.copyfile(fixture("records.csv"), path)
        with open(path, "rb") as f:
            before = f.read()
        code, out, err = run_import(["--output", path, path])
        self.assertEqual(code, 2, err)
        self.assertIn("is the input file", err)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_invalid_share_keeps_snapshot(self):
        code, out, err = run_import(["--output", self.snapshot,
                                     fixture("records.csv")])
        self.assertEqual(code, 0, err)
        with open(self.snapshot, "rb") as f:
            before = f.read()

        code, out, err = run_import(["--output", self.snapshot,
                                     fixture("bad-rows.csv")])
        self.assertEqual(code, 1)
        self.assertIn("5 of 7 rows (71.4%) were invalid", err)
        self.assertIn("--max-invalid-share", err)
        self.assertEqual(out, "")
        with open(self.snapshot, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_invalid_share_no_file(self):
        code, out, err = run_import(["--output", self.snapshot,
                                     fixture("bad-rows.csv")])
        self.assertEqual(code, 1)
        self.assertFalse(os.path.exists(self.snapshot))

    def test_unknown_mapped_column(self):
        mapping = os.path.join(self.tmp.name, "bad.map")
        with open(mapping, "w", encoding="utf-8") as f:
            f.write("# test\nname = given_name + middle_name\n")
        code, out, err = run_import(["--output", self.snapshot,
                                     "--mapping", mapping,
                                     fixture("records.csv")])
        self.assertEqual(code, 1)
        self.assertIn(f"{mapping}:2: unknown column 'middle_name'", err)

    def test_usage_errors(self):
        code, out, err = run_import([fixture("records.csv")])
        self.assertEqual(code, 2)
        self.assertIn("missing --output", err)
        code, out, err = run_import(["--output", self.snapshot,
                                     "--format", "xml",
                                     fixture("records.csv")])
        self.assertEqual(code, 2)

    def test_public_datasets(self):
        data_dir = os.environ.get("ECIF_DATA_DIR")
        if not data_dir:
            self.skipTest("ECIF_DATA_DIR is not set")
        imported = 0
        for folder, mapping, files, share in DATASETS:
            for name in files:
                path = os.path.join(data_dir, folder, name)
                if not os.path.exists(path):
                    print(f"skip {folder}/{name}: not present",
                          file=sys.stderr)
                    continue
                with self.subTest(dataset=folder, file=name):
                    code, out, err = run_import([
                        "--output", self.snapshot,
                        "--max-invalid-share", str(share),
                        "--mapping", os.path.join(MAPPINGS, mapping), path])
                    self.assertEqual(code, 0, err[-2000:])
                    summary = parse_summary(out)
                    self.assertGreater(int(summary["records"]), 0)
                    self.assertGreater(int(summary["customers"]), 0)
                    imported += 1
        if imported == 0:
            self.skipTest(f"no known data set under {data_dir}")


if __name__ == "__main__":
    if not ECIFCTL or not SOURCE_DIR:
        print("ECIFCTL and ECIF_SOURCE_DIR must be set (ctest sets them)",
              file=sys.stderr)
        sys.exit(2)
    unittest.main(verbosity=2)
