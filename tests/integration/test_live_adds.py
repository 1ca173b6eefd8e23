"""Integration tests of AddRecord on a running ecifd.

Covers a record that joins a customer, one that becomes a new customer,
ambiguous records, rejected records that store nothing, the journal across
restarts, corrections of added records, re-import with --journal, update
times, ecifctl add, and Resolve while records are added.
"""

import os
import struct
import subprocess
import sys
import threading
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LI_WEI_CORE = {
    "source_system": "CORE", "source_id": "1001", "name": "Li Wei",
    "id_type": "RESIDENT_ID", "id_number": "110101199003071233",
    "phone": "+86 139 7531 8642", "dob": "1990-03-07", "gender": "M",
}
LI_WEI_CARD = {
    "source_system": "CARD", "source_id": "C-77", "name": "Li Wei",
    "id_type": "RESIDENT_ID", "id_number": "110101199003071233",
    "phone": "13975318642", "dob": "07/03/1990", "gender": "M",
}
ZHANG_MIN = {
    "source_system": "CORE", "source_id": "1002", "name": "Zhang Min",
    "id_type": "PASSPORT", "id_number": "E12345678",
    "phone": "+86 139 1111 2222", "dob": "1985-11-20", "gender": "F",
}
HARRISON = {
    "source_system": "CRM", "source_id": "2001", "name": "Margaret Harrison",
    "id_type": "SSN", "id_number": "521-44-9087",
    "phone": "+1 415 555 0142", "dob": "1979-01-02", "gender": "F",
}
RECORDS = [LI_WEI_CORE, LI_WEI_CARD, ZHANG_MIN, HARRISON]
ACCOUNTS = [
    {"source_system": "CORE", "source_id": "1001", "account_id": "L-500",
     "product": "loan", "credit_limit": "500000", "balance": "320000.50",
     "currency": "CNY", "branch": "BJ01"},
    # Another source system spells the product in capitals.
    {"source_system": "CARD", "source_id": "C-77", "account_id": "L-9003",
     "product": "LOAN", "credit_limit": "100000", "balance": "99999.99",
     "currency": "CNY", "branch": "BJ02"},
    {"source_system": "CORE", "source_id": "1002", "account_id": "D-600",
     "product": "deposit", "credit_limit": "0", "balance": "8000",
     "currency": "CNY", "branch": "SH01"},
]

# Import numbers customers in the order of their first record's
# (source_system, source_id).
LI_WEI, ZHANG, HARRISON_NO = (f"C{n:012d}" for n in (1, 2, 3))
FOURTH, FIFTH = f"C{4:012d}", f"C{5:012d}"

# A loan application of Li Wei from a new source: same resident ID,
# phone and date of birth.
LI_WEI_LOANS = {
    "source_system": "LOANS", "source_id": "APP-1", "name": "Li Wei",
    "id_type": "RESIDENT_ID", "id_number": "110101199003071233",
    "phone": "139 7531 8642", "dob": "1990-03-07",
    "email": "liwei@example.cn",
}
LI_WEI_LOAN_ACCOUNTS = [
    {"account_id": "L-77001", "product": "Loan", "credit_limit": "200000",
     "balance": "150000", "currency": "CNY", "branch": "BJ03"},
    {"account_id": "CC-1", "product": "credit_card", "credit_limit": "50000",
     "balance": "1200.25", "currency": "CNY"},
]
# A new patient that matches no stored record, and a second record of her.
OKAFOR = {
    "source_system": "CLINIC", "source_id": "P-9", "name": "Chinedu Okafor",
    "id_type": "PASSPORT", "id_number": "A09876543",
    "phone": "+234 803 555 7788", "dob": "1992-06-15", "gender": "M",
}
OKAFOR_AGAIN = {
    "source_system": "LOANS", "source_id": "APP-2", "name": "Chinedu Okafor",
    "id_type": "PASSPORT", "id_number": "A09876543",
    "phone": "08035557788", "dob": "15/06/1992",
}



def crc32c(data):
    """CRC-32C (Castagnoli), as the journal frames its entries."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF

class LiveAddsTest(harness.ServerTestCase):
    RECORDS = RECORDS
    ACCOUNTS = ACCOUNTS

    # ---- Helpers ----------------------------------------------------------

    def add(self, stub, fields, accounts=()):
        return stub.AddRecord(self.pb.AddRecordRequest(
            record=self.record(fields, accounts)), timeout=10)

    def add_both(self, stub):
        """Add the loan application (joins Li Wei) and the new patient."""
        joined = self.add(stub, LI_WEI_LOANS, LI_WEI_LOAN_ACCOUNTS)
        created = self.add(stub, OKAFOR)
        return joined, created

    def check_both(self, stub):
        """Check the customers, totals and Resolve results after add_both."""
        li = self.customer(stub, LI_WEI)
        self.assertEqual(self.keys(li), [("CARD", "C-77"), ("CORE", "1001"),
                                         ("LOANS", "APP-1")])
        self.assertIn("liwei@example.cn", li.consolidated.emails)
        self.assertEqual(self.totals(stub, LI_WEI), {
            ("LOAN", "CNY"): ("570000.49", 3),
            ("credit_card", "CNY"): ("1200.25", 1)})
        self.assertEqual(self.keys(self.customer(stub, FOURTH)),
                         [("CLINIC", "P-9")])
        best = self.resolve(stub, {"email": "liwei@example.cn",
                                   "name": "Li Wei"}).candidates[0]
        self.assertEqual(best.customer_number, LI_WEI)
        self.assertIn(("LOANS", "APP-1"),
                      [(r.source_system, r.source_id)
                       for r in best.matched_records])
        self.assertEqual(self.resolve(stub, OKAFOR).candidates[0]
                         .customer_number, FOURTH)

    # ---- Join and create --------------------------------------------------

    def test_add_joins_customer_and_grows_exposure(self):
        server, stub = self.start()
        before = self.totals(stub, LI_WEI)
        self.assertEqual(before, {("LOAN", "CNY"): ("420000.49", 2)})
        reply = self.add(stub, LI_WEI_LOANS, LI_WEI_LOAN_ACCOUNTS)
        self.assertEqual(reply.outcome, self.pb.JOINED)
        self.assertEqual(reply.customer_number, LI_WEI)
        self.assertEqual(reply.record_count, 3)
        self.assertEqual(reply.sequence, 1)
        top = reply.candidates[0]
        self.assertEqual(top.customer_number, LI_WEI)
        self.assertEqual(top.verdict, self.pb.MATCH)
        self.assertGreater(top.match_probability, 0.9)
        evidence = {e.field: e.level for e in top.evidence}
        self.assertEqual(evidence["id_number"], "exact")

        self.assertEqual(self.totals(stub, LI_WEI), {
            ("LOAN", "CNY"): ("570000.49", 3),
            ("credit_card", "CNY"): ("1200.25", 1)})
        exposure = stub.GetExposure(self.pb.GetExposureRequest(
            customer_number=LI_WEI), timeout=10)
        self.assertEqual(sorted(a.account.account_id
                                for a in exposure.accounts),
                         ["CC-1", "L-500", "L-77001", "L-9003"])
        explain = stub.Explain(self.pb.ExplainRequest(
            left_customer_number=LI_WEI,
            right_record=self.record(LI_WEI_LOANS)), timeout=10)
        self.assertEqual(explain.pairs_compared, 3)
        log = self.stop(server)
        self.assertIn(f"AddRecord joined customer {LI_WEI} (3 records)", log)
        self.assertNotIn("Li Wei", log)
        self.assertNotIn("liwei@example.cn", log)

    def test_add_creates_customer_that_later_adds_join(self):
        server, stub = self.start()
        reply = self.add(stub, OKAFOR)
        self.assertEqual(reply.outcome, self.pb.NEW_NO_MATCH)
        self.assertEqual(reply.customer_number, FOURTH)
        self.assertEqual(reply.record_count, 1)
        self.assertEqual(len(reply.candidates), 0)
        got = self.customer(stub, FOURTH)
        self.assertEqual(self.keys(got), [("CLINIC", "P-9")])
        self.assertEqual(got.consolidated.id_number, "A09876543")
        self.assertEqual(self.totals(stub, FOURTH), {})

        # The added record is a candidate for the next add.
        again = self.add(stub, OKAFOR_AGAIN, [
            {"account_id": "L-1", "product": "loan", "credit_limit": "900",
             "balance": "100", "currency": "NGN"}])
        self.assertEqual(again.outcome, self.pb.JOINED)
        self.assertEqual(again.customer_number, FOURTH)
        self.assertEqual(again.record_count, 2)
        self.assertEqual(self.keys(self.customer(stub, FOURTH)),
                         [("CLINIC", "P-9"), ("LOANS", "APP-2")])
        self.assertEqual(self.totals(stub, FOURTH),
                         {("loan", "NGN"): ("100.00", 1)})
        # A number is never issued twice, so the next new customer is 5.
        stranger = dict(HARRISON, source_system="WEB", source_id="9",
                        name="Ines Duarte", id_number="998-12-0000",
                        phone="+351 21 555 0000", dob="2001-09-09")
        self.assertEqual(self.add(stub, stranger).customer_number, FIFTH)
        self.stop(server)

    def test_ambiguous_record_becomes_new_customer(self):
        server, stub = self.start()
        # Split Li Wei into two customers with alike records, so a record of
        # Li Wei now matches both equally well.
        split = stub.Split(self.pb.SplitRequest(
            customer_number=LI_WEI, records=[self.pb.RecordRef(
                source_system="CORE", source_id="1001")],
            reason="two people", actor="steward"), timeout=10)
        self.assertEqual(split.new_customer_number, FOURTH)
        reply = self.add(stub, LI_WEI_LOANS)
        self.assertEqual(reply.outcome, self.pb.NEW_AMBIGUOUS)
        self.assertEqual(reply.customer_number, FIFTH)
        self.assertEqual(reply.record_count, 1)
        numbers = sorted(c.customer_number for c in reply.candidates[:2])
        self.assertEqual(numbers, [LI_WEI, FOURTH])
        for c in reply.candidates[:2]:
            self.assertEqual(c.verdict, self.pb.POSSIBLE_MATCH)
        # Neither customer received the record, and nothing was merged.
        self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                         [("CARD", "C-77")])
        self.assertEqual(self.keys(self.customer(stub, FOURTH)),
                         [("CORE", "1001")])
        self.assertEqual(self.keys(self.customer(stub, FIFTH)),
                         [("LOANS", "APP-1")])
        self.stop(server)

    # ---- Rejections ---------------------------------------------------------

    def test_duplicates_and_invalid_records_store_nothing(self):
        server, stub = self.start()
        code = grpc.StatusCode
        self.expect_error(code.ALREADY_EXISTS,
                          lambda: self.add(stub, LI_WEI_CORE),
                          "CORE/1001", LI_WEI)
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(OKAFOR, source_id="")),
                          "source_id")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(OKAFOR,
                                                      dob="June 1992")),
                          "record.dob", "June 1992")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(OKAFOR, gender="X")),
                          "record.gender", "'X'")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "loan",
                               "currency": "NAIRA"}]),
                          "accounts[0]", "NAIRA")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "loan",
                               "currency": "NGN", "balance": "12x"}]),
                          "accounts[0].balance", "12x")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X-1 ", "product": "loan",
                               "currency": "NGN"}]),
                          "accounts[0]", "account_id",
                          "space at the start or end of 'X-1 '")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "loan",
                               "currency": "NGN"},
                              {"account_id": "X", "product": "loan",
                               "currency": "NGN"}]),
                          "accounts[1]", "'X'")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "loan ",
                               "currency": "NGN"}]),
                          "accounts[0]", "product",
                          "space at the start or end of 'loan '")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "lo\u200ban",
                               "currency": "NGN"}]),
                          "accounts[0]", "product", "U+200B")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, OKAFOR, [
                              {"account_id": "X", "product": "loan",
                               "currency": "NGN", "credit_limit": "-100"}]),
                          "accounts[0]", "credit_limit",
                          "negative limit -100.00")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(
                              OKAFOR, name="Bob\x1b[2J Okafor")),
                          "record.name", "control character U+001B")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(
                              OKAFOR, id_number="A0987\n6543")),
                          "record.id_number", "control character U+000A")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.add(stub, dict(
                              OKAFOR, name="Chinedu\u2029Okafor")),
                          "record.name", "control character U+2029")
        # The rejected calls stored nothing, and the journal contains only
        # its 32-byte header.
        self.assertEqual(os.path.getsize(self.journal), 32)
        self.expect_error(code.NOT_FOUND, lambda: self.customer(stub, FOURTH))
        self.assertEqual(len(self.resolve(stub, OKAFOR).candidates), 0)

        first = self.add(stub, OKAFOR)
        self.assertEqual(first.sequence, 1)
        self.assertEqual(first.customer_number, FOURTH)
        self.expect_error(code.ALREADY_EXISTS,
                          lambda: self.add(stub, OKAFOR), "CLINIC/P-9",
                          FOURTH)
        self.assertEqual(self.add(stub, LI_WEI_LOANS).sequence, 2)
        self.stop(server)

    def test_account_of_another_record_is_rejected(self):
        server, stub = self.start()
        code = grpc.StatusCode
        loan = {"account_id": "L-500", "product": "loan",
                "credit_limit": "1000", "currency": "CNY"}
        # CORE/1001 was imported with account L-500 in system CORE.
        self.expect_error(code.ALREADY_EXISTS,
                          lambda: self.add(stub, dict(OKAFOR,
                                                      source_system="CORE",
                                                      source_id="1003"),
                                           [loan]),
                          "record.accounts[0].account_id", "'L-500'",
                          "CORE/1001")
        self.assertEqual(os.path.getsize(self.journal), 32)
        # The same account id in another source system is another account.
        self.assertEqual(self.add(stub, OKAFOR, [loan]).customer_number,
                         FOURTH)
        self.add(stub, LI_WEI_LOANS, LI_WEI_LOAN_ACCOUNTS)
        # An added record's account is checked too, at any position.
        self.expect_error(code.ALREADY_EXISTS,
                          lambda: self.add(stub, OKAFOR_AGAIN, [
                              dict(loan, account_id="L-1"),
                              dict(loan, account_id="CC-1")]),
                          "record.accounts[1].account_id", "'CC-1'",
                          "LOANS/APP-1")
        self.assertEqual(self.totals(stub, LI_WEI), {
            ("LOAN", "CNY"): ("570000.49", 3),
            ("credit_card", "CNY"): ("1200.25", 1)})
        self.stop(server)

        # After a restart the replayed records still own their accounts.
        server, stub = self.start()
        self.expect_error(code.ALREADY_EXISTS,
                          lambda: self.add(stub, OKAFOR_AGAIN, [
                              dict(loan, account_id="L-77001")]),
                          "record.accounts[0].account_id", "LOANS/APP-1")
        self.assertEqual(self.add(stub, OKAFOR_AGAIN, [
            dict(loan, account_id="L-77002")]).customer_number, FOURTH)
        self.stop(server)

    # ---- Durability and corrections ---------------------------------------

    def test_replay_failure_does_not_log_the_value(self):
        # A journaled add that a later build no longer accepts stops ecifd
        # at start; the log names the entry and the field, not the value.
        server, stub = self.start()
        self.add(stub, OKAFOR)
        self.stop(server)
        with open(self.journal, "rb") as f:
            data = bytearray(f.read())
        at = data.index(b"803 555 7788")
        data[at + 11:at + 12] = b";"
        length, = struct.unpack_from("<I", data, 32)
        body = bytes(data[40:40 + length])
        struct.pack_into("<I", data, 36, crc32c(body))
        with open(self.journal, "wb") as f:
            f.write(data)
        proc = subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
             "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("journal entry 1 no longer applies: phone: invalid "
                      "phone number (value not shown)", proc.stderr)
        self.assertNotIn("555", proc.stderr)

    def test_restart_replays_adds_with_corrections(self):
        server, stub = self.start()
        self.add_both(stub)
        # A steward splits the added record out again, then merges the
        # new patient into Zhang Min's customer.
        split = stub.Split(self.pb.SplitRequest(
            customer_number=LI_WEI, records=[self.pb.RecordRef(
                source_system="LOANS", source_id="APP-1")],
            reason="not him", actor="steward"), timeout=10)
        self.assertEqual(split.new_customer_number, FIFTH)
        self.assertEqual(split.record_count, 2)
        merge = stub.Merge(self.pb.MergeRequest(
            customer_a=ZHANG, customer_b=FOURTH, reason="same",
            actor="steward"), timeout=10)
        self.assertEqual(merge.record_count, 2)
        self.assertEqual(merge.sequence, 4)

        def check(stub):
            self.assertEqual(self.keys(self.customer(stub, FIFTH)),
                             [("LOANS", "APP-1")])
            self.assertEqual(self.totals(stub, FIFTH), {
                ("Loan", "CNY"): ("150000.00", 1),
                ("credit_card", "CNY"): ("1200.25", 1)})
            self.assertEqual(self.totals(stub, LI_WEI),
                             {("LOAN", "CNY"): ("420000.49", 2)})
            zhang = self.customer(stub, FOURTH)
            self.assertEqual(zhang.customer_number, ZHANG)
            self.assertEqual(self.keys(zhang),
                             [("CLINIC", "P-9"), ("CORE", "1002")])
            self.assertEqual(self.resolve(stub, OKAFOR).candidates[0]
                             .customer_number, ZHANG)

        check(stub)
        self.stop(server)
        server, stub = self.start()
        check(stub)
        # Adds after the restart continue from the replayed state.
        again = self.add(stub, OKAFOR_AGAIN)
        self.assertEqual(again.customer_number, ZHANG)
        self.assertEqual(again.sequence, 5)
        stranger = dict(OKAFOR, source_id="P-10", name="Ines Duarte",
                        id_number="P7777777", phone="+351 21 555 0000",
                        dob="2001-09-09")
        self.assertEqual(self.add(stub, stranger).customer_number,
                         f"C{6:012d}")
        log = self.stop(server)
        self.assertIn("replayed 2 corrections and 2 added records", log)

    def test_update_times_decide_and_survive(self):
        server, stub = self.start()
        # The newest record of Li Wei has gender F, against M in two older
        # ones.
        loans = dict(LI_WEI_LOANS, gender="F",
                     updated_at="2024-03-01T16:30:15+08:00")
        self.assertEqual(self.add(stub, loans).customer_number, LI_WEI)

        def check(stub):
            li = self.customer(stub, LI_WEI)
            times = {(r.source_system, r.source_id): r.updated_at
                     for r in li.records}
            self.assertEqual(times, {("CARD", "C-77"): "",
                                     ("CORE", "1001"): "",
                                     ("LOANS", "APP-1"):
                                     "2024-03-01T08:30:15Z"})
            self.assertEqual(li.consolidated.gender, "F")
            rules = {(v.field, v.value): v.rule
                     for v in li.consolidated_sources}
            self.assertEqual(rules[("gender", "F")], "most_recent")

        check(stub)
        for value, words in (("2024-02-30", ["record.updated_at",
                                             "2024-02-30"]),
                             ("2999-01-01", ["record.updated_at",
                                             "in the future"])):
            bad = dict(OKAFOR, updated_at=value)
            self.expect_error(grpc.StatusCode.INVALID_ARGUMENT,
                              lambda: self.add(stub, bad), *words)
        self.expect_error(grpc.StatusCode.NOT_FOUND,
                          lambda: self.customer(stub, FOURTH), FOURTH)
        self.stop(server)
        server, stub = self.start()
        check(stub)
        self.stop(server)

        # An import keeps the times of its column and of the added record.
        records = [dict(r) for r in RECORDS]
        records[0]["updated_at"] = "2023-12-31"
        output = os.path.join(self.dir, "next.snap")
        proc = harness.run_import(
            self.subdir("next"), output, records, ACCOUNTS,
            ["--previous", self.snapshot, "--journal", self.journal])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        server, stub = self.start(output)
        times = {(r.source_system, r.source_id): r.updated_at
                 for r in self.customer(stub, LI_WEI).records}
        self.assertEqual(times[("CORE", "1001")], "2023-12-31T00:00:00Z")
        self.assertEqual(times[("LOANS", "APP-1")], "2024-03-01T08:30:15Z")
        self.stop(server)

        records[1]["updated_at"] = "31/12/2023"
        proc = harness.run_import(self.subdir("bad"),
                                  os.path.join(self.dir, "bad.snap"),
                                  records, ACCOUNTS)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("column 'updated_at': invalid time '31/12/2023'",
                      proc.stderr)

    def test_open_journal_mode_warns(self):
        server, stub = self.start()
        self.add_both(stub)
        log = self.stop(server)
        self.assertEqual(os.stat(self.journal).st_mode & 0o777, 0o600)
        self.assertNotIn("readable or writable by", log)

        for mode in (0o640, 0o604, 0o620):
            os.chmod(self.journal, mode)
            server, stub = self.start()
            self.check_both(stub)
            log = self.stop(server)
            self.assertIn("WARN", log)
            self.assertIn("readable or writable by group or others", log)
            self.assertIn(f"mode {mode:04o}", log)
            self.assertIn(f"chmod 600 '{self.journal}'", log)

    def test_open_snapshot_mode_warns(self):
        server, stub = self.start()
        log = self.stop(server)
        self.assertEqual(os.stat(self.snapshot).st_mode & 0o777, 0o600)
        self.assertNotIn("readable or writable by", log)

        for mode in (0o640, 0o604, 0o660):
            os.chmod(self.snapshot, mode)
            server, stub = self.start()
            log = self.stop(server)
            self.assertIn(f"WARN  snapshot '{self.snapshot}' is readable "
                          "or writable by group or others", log)
            self.assertIn(f"mode {mode:04o}", log)
            self.assertIn(f"chmod 600 '{self.snapshot}'", log)
            # The journal kept its mode, so only the snapshot is named.
            self.assertNotIn(f"journal '{self.journal}' is readable", log)
            for fields in RECORDS:
                self.assertNotIn(fields["name"], log)
                self.assertNotIn(fields["id_number"], log)

    def test_reimport_takes_added_records(self):
        server, stub = self.start()
        self.add_both(stub)
        self.stop(server)

        output = os.path.join(self.dir, "next.snap")
        proc = harness.run_import(
            self.subdir("next"), output, RECORDS, ACCOUNTS,
            ["--previous", self.snapshot, "--journal", self.journal])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("took 2 added records", proc.stderr)
        self.assertIn("records: 6", proc.stdout)

        # An input row that now has an added record's account stops the
        # import, which names the journal entry and the record.
        moved = dict(OKAFOR, source_system="LOANS", source_id="APP-9")
        clash = os.path.join(self.dir, "clash.snap")
        proc = harness.run_import(
            self.subdir("clash"), clash, RECORDS + [moved], ACCOUNTS + [
                {"source_system": "LOANS", "source_id": "APP-9",
                 "account_id": "L-77001", "product": "loan",
                 "credit_limit": "1", "balance": "1", "currency": "CNY"}],
            ["--previous", self.snapshot, "--journal", self.journal])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        for word in ("entry 1", "'LOANS/APP-1'", "'L-77001'",
                     "input files replaces"):
            self.assertIn(word, proc.stderr)
        self.assertFalse(os.path.exists(clash))

        server, stub = self.start(output)
        self.check_both(stub)
        # The new snapshot starts with an empty journal, and its next new
        # customer number follows the numbers that the adds issued.
        self.assertEqual(self.add(stub, OKAFOR_AGAIN).customer_number,
                         FOURTH)
        stranger = dict(OKAFOR, source_id="P-10", name="Ines Duarte",
                        id_number="P7777777", phone="+351 21 555 0000",
                        dob="2001-09-09")
        self.assertEqual(self.add(stub, stranger).customer_number, FIFTH)
        self.stop(server)

    def test_import_help_names_added_records(self):
        proc = subprocess.run([harness.ECIFCTL, "import", "--help"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0)
        journal_help = proc.stdout.split("--journal", 1)[1].split(
            "--frequent-limit", 1)[0]
        self.assertIn("added records", journal_help)
        self.assertIn("--previous", proc.stdout)

    # ---- ecifctl ----------------------------------------------------------

    def test_ecifctl_add(self):
        server, stub = self.start()
        base = [harness.ECIFCTL, "add", "--server", server.address,
                "--actor", "teller"]
        proc = subprocess.run(
            base + ["--source-system", "LOANS", "--source-id", "APP-1",
                    "--name", "Li Wei", "--id-type", "RESIDENT_ID",
                    "--id-number", "110101199003071233",
                    "--phone", "139 7531 8642", "--dob", "1990-03-07",
                    "--account", "L-77001,loan,CNY,200000,150000,BJ03"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"joined {LI_WEI}: 3 records (journal entry 1)",
                      proc.stdout)

        proc = subprocess.run(
            base + ["--json", "--source-system", "CLINIC", "--source-id",
                    "P-9", "--name", "Chinedu Okafor", "--dob",
                    "1992-06-15"], capture_output=True, text=True,
            timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f'"customer_number":"{FOURTH}"', proc.stdout)
        self.assertIn('"outcome":"NEW_NO_MATCH"', proc.stdout)

        proc = subprocess.run(
            base + ["--source-system", "CLINIC", "--source-id", "P-9",
                    "--name", "Chinedu Okafor"], capture_output=True,
            text=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ALREADY_EXISTS", proc.stderr)

        proc = subprocess.run(base + ["--name", "No Key"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--source-id", proc.stderr)

        # ecifctl sends nothing when an account has too many or too few
        # fields.
        for spec in ("L-9,loan,CNY,1,2,BJ03,extra", "L-9,loan,CNY,1"):
            proc = subprocess.run(
                base + ["--source-system", "LOANS", "--source-id", "APP-9",
                        "--name", "Li Wei", "--account", spec],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 2, spec)
            self.assertIn(f"--account '{spec}'", proc.stderr)
            self.assertIn("ID,PRODUCT,CURRENCY,LIMIT,BALANCE", proc.stderr)

        proc = subprocess.run(base + ["--help"], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("4 decimal places", proc.stdout)
        self.assertIn("minus sign", proc.stdout)

        # The rejected account specs changed nothing on the server.
        self.assertEqual(self.totals(stub, LI_WEI),
                         {("LOAN", "CNY"): ("570000.49", 3)})
        self.stop(server)

    # ---- Concurrency ------------------------------------------------------

    def test_resolve_during_adds(self):
        server, stub = self.start()
        stop = threading.Event()
        errors = []
        calls = [0]

        def reader():
            local = self.pb_grpc.CustomerIndexStub(server.channel)
            last = 0
            while not stop.is_set():
                try:
                    best = self.resolve(local, LI_WEI_CORE).candidates[0]
                    got = self.customer(local, LI_WEI)
                    exposure = local.GetExposure(self.pb.GetExposureRequest(
                        customer_number=LI_WEI), timeout=10)
                except grpc.RpcError as e:
                    errors.append(f"{e.code()}: {e.details()}")
                    return
                calls[0] += 1
                n = len(got.records)
                if best.customer_number != LI_WEI:
                    errors.append(f"Resolve returned {best.customer_number}")
                if n < last:
                    errors.append(f"{LI_WEI} shrank from {last} to {n}")
                last = n
                count = sum(t.account_count for t in exposure.totals)
                if count != len(exposure.accounts):
                    errors.append(f"{count} accounts in totals, "
                                  f"{len(exposure.accounts)} listed")
                # Each base or added record of Li Wei has one account, and
                # the exposure call may see adds that the customer call did
                # not.
                if count < n:
                    errors.append(f"{count} accounts in totals, {n} records")

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(30):
                record = dict(LI_WEI_LOANS, source_id=f"APP-{i}")
                reply = self.add(stub, record, [
                    {"account_id": f"L-{i}", "product": "loan",
                     "credit_limit": "10", "balance": "1",
                     "currency": "CNY"}])
                self.assertEqual(reply.customer_number, LI_WEI)
                self.assertEqual(reply.record_count, 3 + i)
                other = dict(OKAFOR, source_id=f"P-{i}",
                             id_number=f"B{i:08d}", phone=f"+234 803 {i:07d}")
                self.add(stub, other)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertGreater(calls[0], 0)
        self.assertEqual(len(self.customer(stub, LI_WEI).records), 32)
        self.stop(server)



GEORGE = {"name": "George Hill", "phone": "+1 503 555 0199",
          "address": "12 Elm Street, Salem, OR 97301", "gender": "M"}


class HouseholdAddTest(harness.ServerTestCase):
    """A son added live is not joined to his father's customer."""

    RECORDS = [dict(GEORGE, source_system="CORE", source_id="X1",
                    dob="1960-04-02"),
               dict(GEORGE, source_system="CARD", source_id="X3")]

    def test_add_of_son_makes_new_customer(self):
        server, stub = self.start()
        def with_address(fields):
            record = self.record({k: v for k, v in fields.items()
                                  if k != "address"})
            record.addresses.append(fields["address"])
            return record

        father = stub.Resolve(self.pb.ResolveRequest(
            record=with_address(dict(GEORGE, dob="1960-04-02"))), timeout=10)
        self.assertEqual(len(father.candidates), 1)
        reply = stub.AddRecord(self.pb.AddRecordRequest(
            record=with_address(dict(GEORGE, source_system="LOANS",
                                     source_id="X2", dob="1990-04-02")),
            actor="test"), timeout=10)
        # The record without a date matches, but the father's record is
        # a generation older at the same phone and address.
        self.assertEqual(reply.outcome, self.pb.NEW_CONFLICT)
        self.assertNotEqual(reply.customer_number,
                            father.candidates[0].customer_number)
        self.assertEqual(reply.record_count, 1)
        self.stop(server)
        # The journal replays to the same result after a restart.
        server, stub = self.start()
        got = self.customer(stub, reply.customer_number)
        self.assertEqual(self.keys(got), [("LOANS", "X2")])
        self.stop(server)

if __name__ == "__main__":
    unittest.main()
