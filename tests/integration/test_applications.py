"""Integration tests of duplicate-application signals in GetExposure
(engine/APPLICATIONS.md), through a real ecifd and ecifctl.
"""

import datetime
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def ago(**delta):
    return (NOW - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


LI_ID = "110101199003071233"
LI_PHONE = "139 7531 8642"
LI = {"name": "Li Wei", "id_type": "RESIDENT_ID", "id_number": LI_ID,
      "dob": "1990-03-07"}
RECORDS = [
    dict(LI, source_system="CORE", source_id="1", phone=LI_PHONE,
         updated_at=ago(days=2)),
    dict(LI, source_system="LOANS", source_id="A-1", phone=LI_PHONE,
         updated_at=ago(hours=20)),
    # Updated long before the window: it does not count.
    dict(LI, source_system="CARD", source_id="7", updated_at=ago(days=400)),
    # Another person applying with Li Wei's phone.
    {"source_system": "LOANS", "source_id": "A-2", "name": "Zhao Min",
     "id_type": "PASSPORT", "id_number": "E12345678", "phone": LI_PHONE,
     "dob": "1985-01-01", "updated_at": ago(days=3)},
    # Three records sharing a placeholder phone are no signal.
    {"source_system": "CORE", "source_id": "9", "name": "Sun Li",
     "id_type": "PASSPORT", "id_number": "G00000001",
     "phone": "13800138000", "updated_at": ago(days=1)},
    {"source_system": "CARD", "source_id": "9", "name": "Sun Li",
     "id_type": "PASSPORT", "id_number": "G00000001",
     "phone": "13800138000", "updated_at": ago(days=1)},
    {"source_system": "LOANS", "source_id": "9", "name": "Sun Li",
     "id_type": "PASSPORT", "id_number": "G00000001",
     "phone": "13800138000", "updated_at": ago(days=400)},
]
LI_NO, SUN_NO, ZHAO_NO = "C000000000001", "C000000000002", "C000000000003"


class ApplicationSignalsTest(harness.ServerTestCase):
    RECORDS = RECORDS

    def signals(self, stub, number):
        reply = stub.GetExposure(self.pb.GetExposureRequest(
            customer_number=number), timeout=10)
        return {s.field: s for s in reply.application_signals}

    def test_shared_phone_across_customers(self):
        audit = os.path.join(self.dir, "audit.log")
        server, stub = self.start(extra_args=["--audit-log", audit])
        self.assertEqual(self.resolve(stub, {"name": "Zhao Min",
                                             "id_number": "E12345678"})
                         .candidates[0].customer_number, ZHAO_NO)
        signals = self.signals(stub, LI_NO)
        self.assertEqual(sorted(signals), ["phone"])
        phone = signals["phone"]
        self.assertEqual(phone.records, 3)
        self.assertEqual(phone.customers, 2)
        self.assertEqual(list(phone.other_customer_numbers), [ZHAO_NO])
        self.assertEqual(phone.first_updated_at, ago(days=3))
        self.assertEqual(phone.last_updated_at, ago(hours=20))
        self.assertEqual(phone.window_days, 30)
        self.assertEqual(phone.threshold, 3)
        self.assertTrue(phone.value_hint.endswith("8642"))
        self.assertNotIn("7531", phone.value_hint)

        # Zhao gets the same phone, with Li as the other customer.
        zhao = self.signals(stub, ZHAO_NO)["phone"]
        self.assertEqual(list(zhao.other_customer_numbers), [LI_NO])
        # The placeholder phone gives Sun no signal.
        self.assertEqual(self.signals(stub, SUN_NO), {})
        self.stop(server)
        # The audit line names every customer the reply showed.
        with open(audit, encoding="utf-8") as f:
            lines = [line for line in f if "method=GetExposure" in line]
        self.assertIn(f"customers={LI_NO},{ZHAO_NO}\n", lines[0])

    def test_added_application_counts_at_once(self):
        server, stub = self.start()
        self.assertNotIn("id_number", self.signals(stub, LI_NO))
        reply = stub.AddRecord(self.pb.AddRecordRequest(
            record=self.record(dict(LI, source_system="LOANS",
                                    source_id="A-3")),
            actor="test"), timeout=10)
        self.assertEqual(reply.customer_number, LI_NO)
        # The add's reply already carries the signal it completes.
        added = {s.field: s for s in reply.application_signals}
        self.assertEqual(added["id_number"].records, 3)
        self.assertEqual(added["phone"].records, 3)
        signals = self.signals(stub, LI_NO)
        self.assertIn("id_number", signals)
        self.assertEqual(signals["id_number"].records, 3)
        self.assertEqual(signals["id_number"].customers, 1)
        self.assertEqual(len(signals["id_number"].other_customer_numbers), 0)
        self.assertTrue(signals["id_number"].value_hint.endswith("1233"))
        self.assertEqual(signals["phone"].records, 3)

        proc = subprocess.run(
            [harness.ECIFCTL, "exposure", "--server", server.address, LI_NO],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("duplicate applications: id_number", proc.stdout)
        self.assertIn(f"other customers {ZHAO_NO}", proc.stdout)
        self.assertNotIn(LI_ID, proc.stdout)
        log = self.stop(server)
        self.assertNotIn(LI_ID, log)

        # The journal keeps the add's time: the signal survives a restart.
        server, stub = self.start()
        self.assertEqual(self.signals(stub, LI_NO)["id_number"].records, 3)
        self.stop(server)

    def test_ecifctl_add_prints_signal(self):
        server, _ = self.start()
        proc = subprocess.run(
            [harness.ECIFCTL, "add", "--server", server.address,
             "--source-system", "LOANS", "--source-id", "A-9",
             "--name", "Qian Hao", "--phone", LI_PHONE, "--actor", "test"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("duplicate applications: phone", proc.stdout)
        self.assertIn("on 4 records of 3 customers", proc.stdout)
        self.assertNotIn("7531", proc.stdout)
        self.stop(server)

    def test_window_and_threshold_options(self):
        server, stub = self.start(
            extra_args=["--application-window-days", "1"])
        self.assertEqual(self.signals(stub, LI_NO), {})
        self.stop(server)
        server, stub = self.start(
            extra_args=["--application-threshold", "2"])
        signals = self.signals(stub, LI_NO)
        self.assertEqual(signals["id_number"].records, 2)
        self.assertEqual(signals["id_number"].threshold, 2)
        self.stop(server)

    def test_widely_shared_phone_still_counts_adds(self):
        # 300 older records share a phone (below the frequent limit of
        # 1000 set here); three applications with it arrive while serving.
        folder = self.subdir("shared")
        records = [{"source_system": "OLD", "source_id": str(i),
                    "name": f"Person {i:03d}", "phone": "139 0000 7777"}
                   for i in range(300)]
        snapshot = os.path.join(folder, "shared.snap")
        proc = harness.run_import(folder, snapshot, records,
                                  options=["--frequent-limit", "1000"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        server, stub = self.start(snapshot)
        numbers = []
        for i in range(3):
            reply = stub.AddRecord(self.pb.AddRecordRequest(
                record=self.record({
                    "source_system": "LOANS", "source_id": f"N-{i}",
                    "name": f"Applicant {i}", "phone": "139 0000 7777"}),
                actor="test"), timeout=10)
            numbers.append(reply.customer_number)
        phone = self.signals(stub, numbers[0])["phone"]
        self.assertEqual(phone.records, 3)
        self.assertEqual(phone.customers, len(set(numbers)))
        self.stop(server)

    def test_invalid_options_rejected(self):
        for option, value in (("--application-window-days", "0"),
                              ("--application-window-days", "3651"),
                              ("--application-threshold", "1")):
            with self.subTest(option=option, value=value):
                proc = subprocess.run(
                    [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
                     "127.0.0.1:0", option, value],
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(proc.returncode, 2)
                self.assertIn(f"invalid {option} '{value}'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
