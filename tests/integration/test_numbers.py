"""Stable customer numbers across imports.

Each import names the snapshot it replaces with --previous. A customer
keeps its number as records are added. When a new record joins two
customers, the lower (older) number survives, and the other is retired and
redirects to it. New customers get numbers never issued before.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LI_WEI_PHONE = {"source_system": "CORE", "source_id": "1", "name": "Li Wei",
                "phone": "13911112222"}
LI_WEI_EMAIL = {"source_system": "CARD", "source_id": "2", "name": "Li Wei",
                "email": "liwei@mail.cn"}
WANG_FANG = {"source_system": "HR", "source_id": "3", "name": "Wang Fang",
             "dob": "1985-01-01", "phone": "13733334444"}
ZHAO_LEI = {"source_system": "OPS", "source_id": "9", "name": "Zhao Lei",
            "dob": "1979-09-09", "phone": "13655556666"}
# Contains both the phone and the email, so it joins the two Li Wei
# customers.
LI_WEI_BOTH = {"source_system": "WEB", "source_id": "7", "name": "Li Wei",
               "phone": "13911112222", "email": "liwei@mail.cn"}


def number(n):
    return f"C{n:012d}"


class NumbersTest(harness.StubsTestCase):

    def import_version(self, name, records, previous=None):
        """Import records into NAME.snap and return (path, summary)."""
        snapshot = os.path.join(self.work.name, name + ".snap")
        options = ["--quiet"]
        if previous is not None:
            options += ["--previous", previous]
        proc = harness.run_import(os.path.join(self.work.name, name),
                                  snapshot, records, options=options)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        summary = dict(line.split(": ", 1)
                       for line in proc.stdout.splitlines() if ": " in line)
        return snapshot, summary

    def customers(self, snapshot, numbers):
        """Call GetCustomer for each number and return the responses."""
        server = harness.Ecifd(snapshot, self.work.name)
        try:
            server.wait_serving(self.health_pb2)
            stub = self.pb_grpc.CustomerIndexStub(server.channel)
            return [stub.GetCustomer(
                self.pb.GetCustomerRequest(customer_number=n), timeout=10)
                for n in numbers]
        finally:
            self.assertEqual(server.stop(), 0)

    def test_numbers_survive_growth_and_merge(self):
        v1, s1 = self.import_version(
            "v1", [LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG])
        self.assertEqual(s1["customers"], "3")
        # Import numbers customers in the order of their first record's
        # (source_system, source_id): CARD/2, CORE/1, HR/3.
        r = self.customers(v1, [number(1), number(2), number(3)])
        self.assertEqual([x.records[0].source_id for x in r], ["2", "1", "3"])

        v2, s2 = self.import_version(
            "v2", [ZHAO_LEI, LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG],
            previous=v1)
        self.assertEqual(s2["numbers kept"], "3")
        self.assertEqual(s2["numbers retired"], "0")
        r = self.customers(v2, [number(1), number(2), number(3), number(4)])
        self.assertEqual([x.records[0].source_id for x in r],
                         ["2", "1", "3", "9"])

        v3, s3 = self.import_version(
            "v3", [ZHAO_LEI, LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG,
                   LI_WEI_BOTH], previous=v2)
        self.assertEqual(s3["customers"], "3")
        self.assertEqual(s3["numbers retired"], "1")
        merged, retired, zhao = self.customers(
            v3, [number(1), number(2), number(4)])
        self.assertEqual(merged.customer_number, number(1))
        self.assertEqual(sorted(x.source_id for x in merged.records),
                         ["1", "2", "7"])
        self.assertEqual(list(merged.merged_numbers), [number(2)])
        self.assertEqual(merged.redirected_from, "")
        self.assertEqual(retired.customer_number, number(1))
        self.assertEqual(retired.redirected_from, number(2))
        self.assertEqual(zhao.customer_number, number(4))

        # The redirect outlives the next import.
        v4, s4 = self.import_version(
            "v4", [ZHAO_LEI, LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG,
                   LI_WEI_BOTH], previous=v3)
        self.assertEqual(s4["numbers retired"], "0")
        (retired,) = self.customers(v4, [number(2)])
        self.assertEqual(retired.customer_number, number(1))
        self.assertEqual(retired.redirected_from, number(2))

    def test_unknown_previous_fails_cleanly(self):
        folder = os.path.join(self.work.name, "bad")
        out = os.path.join(folder, "out.snap")
        proc = harness.run_import(
            folder, out, [WANG_FANG],
            options=["--quiet", "--previous",
                     os.path.join(folder, "missing.snap")])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--previous: cannot open snapshot", proc.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
