"""Integration tests of the journal's writer lock.

A second ecifd on the journal of a running one must not start, and
`ecifctl import` must not fold or remove a journal that ecifd is
appending to. Both exit 1 and leave every file as it was.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RECORDS = [
    {"source_system": "CORE", "source_id": "1", "name": "Li Wei",
     "id_type": "RESIDENT_ID", "id_number": "110101199003071233",
     "phone": "+86 139 7531 8642", "dob": "1990-03-07", "gender": "M"},
    {"source_system": "CORE", "source_id": "2", "name": "Zhang Min",
     "id_type": "PASSPORT", "id_number": "E12345678",
     "phone": "+86 139 1111 2222", "dob": "1985-11-20", "gender": "F"},
]
ACCOUNTS = [
    {"source_system": "CORE", "source_id": "1", "account_id": "L-1",
     "product": "loan", "credit_limit": "1000", "balance": "500",
     "currency": "CNY", "branch": "BJ01"},
]
# New people that match no stored record, so each add issues a number.
OKAFOR = {
    "source_system": "CLINIC", "source_id": "P-9", "name": "Chinedu Okafor",
    "id_type": "PASSPORT", "id_number": "A09876543",
    "phone": "+234 803 555 7788", "dob": "1992-06-15", "gender": "M",
}
DUARTE = {
    "source_system": "CLINIC", "source_id": "P-10", "name": "Ines Duarte",
    "id_type": "PASSPORT", "id_number": "P7777777",
    "phone": "+351 21 555 0000", "dob": "2001-09-09", "gender": "F",
}
THIRD, FOURTH = f"C{3:012d}", f"C{4:012d}"


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class JournalLockTest(harness.ServerTestCase):
    RECORDS = RECORDS
    ACCOUNTS = ACCOUNTS

    def add(self, stub, fields):
        return stub.AddRecord(self.pb.AddRecordRequest(
            record=self.record(fields)), timeout=10)

    def start_second(self, snapshot):
        """Start another ecifd on snapshot and return its serving line
        ("" when it printed none), its exit code (None while it ran) and
        its log."""
        log_path = os.path.join(self.dir, "second.log")
        with open(log_path, "w") as log:
            second = subprocess.Popen(
                [harness.ECIFD, "--snapshot", snapshot, "--listen",
                 "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=log,
                text=True)
            try:
                line = second.stdout.readline()
                rc = (second.wait(timeout=harness.START_TIMEOUT)
                      if line == "" else None)
            finally:
                if second.poll() is None:
                    second.kill()
                    second.wait()
                second.stdout.close()
        with open(log_path, encoding="utf-8") as f:
            return line, rc, f.read()

    def test_second_server_through_symlink_rejected(self):
        # Another name of the snapshot leads to the same journal and lock.
        link = os.path.join(self.dir, "alias.snap")
        os.symlink(self.snapshot, link)
        server, stub = self.start()
        self.assertEqual(self.add(stub, OKAFOR).customer_number, THIRD)
        line, rc, log = self.start_second(link)
        self.assertEqual(line, "", log)
        self.assertEqual(rc, 1, log)
        self.assertIn(f"journal '{os.path.realpath(self.journal)}' is in use",
                      log)
        self.assertFalse(os.path.exists(link + ".journal"))
        self.stop(server)

    def test_second_server_rejected(self):
        server, stub = self.start()
        self.assertEqual(self.add(stub, OKAFOR).customer_number, THIRD)

        # An ecifd that starts prints its serving line and runs on, so the
        # wait happens only after the line is missing.
        line, rc, second_log = self.start_second(self.snapshot)
        self.assertEqual(line, "", second_log)
        self.assertEqual(rc, 1, second_log)
        self.assertIn(f"journal '{self.journal}' is in use by another "
                      "process", second_log)
        self.assertIn("stop the other process", second_log)

        # The first server keeps its journal, and both adds survive.
        self.assertEqual(self.add(stub, DUARTE).customer_number, FOURTH)
        self.stop(server)
        self.check_both_added()

    def check_both_added(self):
        """Start a server and check the customers of both adds."""
        server, stub = self.start()
        self.assertEqual(self.keys(self.customer(stub, THIRD)),
                         [("CLINIC", "P-9")])
        self.assertEqual(self.keys(self.customer(stub, FOURTH)),
                         [("CLINIC", "P-10")])
        self.stop(server)

    def folded_journals(self):
        prefix = os.path.basename(self.journal) + ".folded"
        return [n for n in os.listdir(self.dir) if n.startswith(prefix)]

    def check_import_rejected(self, options):
        """Run an in-place import with options while a server has the
        journal locked, and check that it exits 1 and changes no file."""
        snapshot_bytes = read_bytes(self.snapshot)
        journal_bytes = read_bytes(self.journal)
        proc = harness.run_import(self.subdir(f"in-{len(options)}"),
                                  self.snapshot, RECORDS, ACCOUNTS, options)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"journal '{self.journal}' is in use by another "
                      "process", proc.stderr)
        self.assertIn("stop it first", proc.stderr)
        self.assertEqual(read_bytes(self.snapshot), snapshot_bytes)
        self.assertEqual(read_bytes(self.journal), journal_bytes)
        self.assertEqual(self.folded_journals(), [])

    def test_import_of_served_journal_rejected(self):
        server, stub = self.start()
        self.assertEqual(self.add(stub, OKAFOR).customer_number, THIRD)
        self.check_import_rejected(["--previous", self.snapshot,
                                    "--journal", self.journal])

        # The server still appends to the journal, and once it stops the
        # import folds both adds into the new snapshot.
        self.assertEqual(self.add(stub, DUARTE).customer_number, FOURTH)
        self.stop(server)
        proc = harness.run_import(
            self.subdir("after"), self.snapshot, RECORDS, ACCOUNTS,
            ["--previous", self.snapshot, "--journal", self.journal])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("took 2 added records", proc.stderr)
        self.assertEqual(len(self.folded_journals()), 1)
        self.check_both_added()

    def test_import_over_served_empty_journal_rejected(self):
        # Without the lock, the import would remove the empty journal that
        # the server goes on appending to.
        server, stub = self.start()
        self.check_import_rejected(["--previous", self.snapshot])
        self.assertEqual(self.add(stub, OKAFOR).customer_number, THIRD)
        self.stop(server)
        server, stub = self.start()
        self.assertEqual(self.keys(self.customer(stub, THIRD)),
                         [("CLINIC", "P-9")])
        self.stop(server)


if __name__ == "__main__":
    unittest.main()
