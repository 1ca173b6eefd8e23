"""Integration tests of manual corrections on a real ecifd.

Covers Merge, Split and NotSameCustomer and their errors, the journal
across restarts (torn last entry, damaged middle entry), re-import with
--previous and --journal, and Resolve while corrections are applied.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Two records of Li Wei that share a valid resident ID: one customer.
LI_WEI_CORE = {
    "source_system": "CORE", "source_id": "1001", "name": "Li Wei",
    "id_type": "RESIDENT_ID", "id_number": "110101199003071234",
    "phone": "+86 139 7531 8642", "dob": "1990-03-07", "gender": "M",
}
LI_WEI_CARD = {
    "source_system": "CARD", "source_id": "C-77", "name": "Li Wei",
    "id_type": "RESIDENT_ID", "id_number": "110101199003071234",
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
OKAFOR = {
    "source_system": "CRM", "source_id": "2002", "name": "Chinedu Okafor",
    "id_type": "PASSPORT", "id_number": "A09876543",
    "phone": "+234 803 555 7788", "dob": "1992-06-15", "gender": "M",
}
RECORDS = [LI_WEI_CORE, LI_WEI_CARD, ZHANG_MIN, HARRISON, OKAFOR]

ACCOUNTS = [
    {"source_system": "CORE", "source_id": "1001", "account_id": "L-500",
     "product": "loan", "credit_limit": "500000", "balance": "320000.50",
     "currency": "CNY", "branch": "BJ01"},
    {"source_system": "CARD", "source_id": "C-77", "account_id": "L-9003",
     "product": "loan", "credit_limit": "100000", "balance": "99999.99",
     "currency": "CNY", "branch": "BJ02"},
    {"source_system": "CORE", "source_id": "1002", "account_id": "D-600",
     "product": "deposit", "credit_limit": "0", "balance": "8000",
     "currency": "CNY", "branch": "SH01"},
    # Another source system spells the product with a capital.
    {"source_system": "CRM", "source_id": "2001", "account_id": "D-700",
     "product": "Deposit", "credit_limit": "0", "balance": "2500",
     "currency": "CNY", "branch": "SF01"},
]

# Import numbers customers in the order of their first record's
# (source_system, source_id): CARD/C-77 (Li Wei), CORE/1002 (Zhang Min),
# CRM/2001, CRM/2002.
LI_WEI, ZHANG, HARRISON_NO, OKAFOR_NO = (f"C{n:012d}" for n in (1, 2, 3, 4))
FIFTH = f"C{5:012d}"

# Two Chen Jie records that share no strong key, and a third that
# contains the phone of one and the email of the other, which joins them.
CHEN_PHONE = {"source_system": "CORE", "source_id": "1", "name": "Chen Jie",
              "phone": "13911112222"}
CHEN_EMAIL = {"source_system": "CARD", "source_id": "2", "name": "Chen Jie",
              "email": "chenjie@mail.cn"}
CHEN_BOTH = {"source_system": "WEB", "source_id": "7", "name": "Chen Jie",
             "phone": "13911112222", "email": "chenjie@mail.cn"}


def load_name(letters, i):
    """Build a two-word name for load record i from letters."""
    given_name = letters[i % 20] + "a" + letters[i * 7 % 20] + "o"
    family_name = letters[i * 3 % 20] + "ei"
    return f"{given_name} {family_name}".title()


class CorrectionsTest(harness.ServerTestCase):
    RECORDS = RECORDS
    ACCOUNTS = ACCOUNTS

    def merge(self, stub, a, b, reason="same person after review",
              actor="steward.wang"):
        return stub.Merge(self.pb.MergeRequest(
            customer_a=a, customer_b=b, reason=reason, actor=actor),
            timeout=10)

    def split(self, stub, number, keys, reason="two people in one",
              actor="steward.wang"):
        refs = [self.pb.RecordRef(source_system=s, source_id=i)
                for s, i in keys]
        return stub.Split(self.pb.SplitRequest(
            customer_number=number, records=refs, reason=reason,
            actor=actor), timeout=10)

    def not_same(self, stub, a, b, reason="different people",
                 actor="steward.wang"):
        return stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
            customer_a=a, customer_b=b, reason=reason, actor=actor),
            timeout=10)

    def check_lasting(self, server, stub, check):
        """Run check(stub) on the running server, after a restart, and after
        a re-import that folds the journal. Stop every server after each."""
        check(stub)
        self.stop(server)
        server, stub = self.start()
        check(stub)
        self.stop(server)
        v2, _ = self.reimport(RECORDS, self.snapshot, self.journal)
        server, stub = self.start(v2)
        check(stub)
        self.stop(server)

    def resolve_best(self, stub, fields):
        reply = self.resolve(stub, fields)
        return reply.candidates[0].customer_number if reply.candidates else ""

    # ---- Merge ------------------------------------------------------------

    def test_merge_joins_and_redirects(self):
        server, stub = self.start()
        reply = self.merge(stub, HARRISON_NO, ZHANG)
        self.assertEqual(reply.customer_number, ZHANG)
        self.assertEqual(reply.retired_number, HARRISON_NO)
        self.assertEqual(reply.record_count, 2)
        self.assertEqual(reply.moved_record_count, 1)
        self.assertEqual(reply.sequence, 1)

        got = self.customer(stub, HARRISON_NO)
        self.assertEqual(got.customer_number, ZHANG)
        self.assertEqual(got.redirected_from, HARRISON_NO)
        self.assertEqual(list(got.merged_numbers), [HARRISON_NO])
        self.assertEqual(self.keys(got),
                         [("CORE", "1002"), ("CRM", "2001")])
        self.assertEqual(got.consolidated.id_number != "", True)

        exposure, totals = self.exposure(stub, ZHANG)
        self.assertEqual(exposure.customer_number, ZHANG)
        self.assertEqual(totals, {("Deposit", "CNY"): ("10500.00", 2)})
        self.assertEqual(len(exposure.accounts), 2)

        self.assertEqual(self.resolve_best(stub, HARRISON), ZHANG)
        explain = stub.Explain(self.pb.ExplainRequest(
            left_customer_number=HARRISON_NO,
            right_record=self.record(HARRISON)), timeout=10)
        self.assertEqual(explain.left_customer_number, ZHANG)
        self.assertEqual(explain.pairs_compared, 2)
        log = self.stop(server)
        self.assertRegex(
            log, r"correction 1: Merge C000000000002 \(now 2 records\) and "
            r"C000000000003 \(now 0 records\), 1 record moved")
        self.assertNotIn("same person after review", log)
        self.assertNotIn("Harrison", log)

    def test_merge_errors(self):
        server, stub = self.start()
        code = grpc.StatusCode
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, "", ZHANG), "customer_a")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, "X42"),
                          "customer_b", "'X42'")
        self.expect_error(code.NOT_FOUND,
                          lambda: self.merge(stub, ZHANG, FIFTH),
                          "customer_b", FIFTH)
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO, ""),
                          "reason")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO, "   "),
                          "reason is required")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO,
                                             "ok\n#9 by auditor"),
                          "reason: contains a control or format character")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO,
                                             actor="a\x1b[31mb"),
                          "actor: contains a control or format character")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO,
                                             "ok\u2028#9 by auditor"),
                          "reason: contains a control or format character")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.merge(stub, ZHANG, OKAFOR_NO,
                                             actor=" "),
                          "actor is required")
        # Python's protobuf sends only valid UTF-8, so the invalid actor is
        # patched into the encoded request.
        raw = self.pb.MergeRequest(
            customer_a=ZHANG, customer_b=OKAFOR_NO, reason="r",
            actor="AB").SerializeToString().replace(b"AB", b"A\xff")
        merge_raw = harness.raw_method(server.channel,
                                       "/ecif.v1.CustomerIndex/Merge")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: merge_raw(raw, timeout=10),
                          "actor: contains invalid UTF-8")
        self.expect_error(code.FAILED_PRECONDITION,
                          lambda: self.merge(stub, ZHANG, ZHANG), ZHANG)
        self.merge(stub, ZHANG, OKAFOR_NO)
        # The retired number redirects to the survivor, so both numbers
        # are already one customer.
        self.expect_error(code.FAILED_PRECONDITION,
                          lambda: self.merge(stub, OKAFOR_NO, ZHANG), ZHANG)
        # The failed calls wrote nothing, so the journal contains one entry
        # and the next merge is sequence 2.
        self.assertEqual(self.merge(stub, LI_WEI, HARRISON_NO).sequence, 2)
        self.stop(server)

    # ---- Split ------------------------------------------------------------

    def test_split_moves_records_and_exposure(self):
        server, stub = self.start()
        reply = self.split(stub, LI_WEI, [("CORE", "1001")])
        self.assertEqual(reply.customer_number, LI_WEI)
        self.assertEqual(reply.record_count, 1)
        self.assertEqual(reply.new_customer_number, FIFTH)
        self.assertEqual(reply.new_record_count, 1)

        self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                         [("CARD", "C-77")])
        new = self.customer(stub, FIFTH)
        self.assertEqual(self.keys(new), [("CORE", "1001")])
        self.assertEqual(new.consolidated.phones, ["+86 139 7531 8642"])
        _, old_totals = self.exposure(stub, LI_WEI)
        self.assertEqual(old_totals, {("loan", "CNY"): ("99999.99", 1)})
        _, new_totals = self.exposure(stub, FIFTH)
        self.assertEqual(new_totals, {("loan", "CNY"): ("320000.50", 1)})
        # Resolve returns both customers as separate candidates.
        reply = stub.Resolve(self.pb.ResolveRequest(
            record=self.record(LI_WEI_CORE)), timeout=10)
        numbers = [c.customer_number for c in reply.candidates]
        self.assertIn(FIFTH, numbers)
        self.assertIn(LI_WEI, numbers)

        # Split marks the moved records as not the same as the rest.
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.merge(stub, LI_WEI, FIFTH),
                          LI_WEI, FIFTH)
        self.stop(server)

    def test_split_errors(self):
        server, stub = self.start()
        code = grpc.StatusCode
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.split(stub, LI_WEI, []), "records")
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.split(stub, LI_WEI,
                                             [("CORE", "1001"),
                                              ("CARD", "C-77")]),
                          "records", LI_WEI)
        self.expect_error(code.NOT_FOUND,
                          lambda: self.split(stub, LI_WEI, [("CORE", "9")]),
                          "records[0]", "CORE/9")
        # A repeated record is reported as a duplicate before the records
        # are counted against the customer's.
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.split(stub, LI_WEI,
                                             [("CORE", "1001"),
                                              ("CORE", "1001")]),
                          "records[1]", "'CORE/1001' is also records[0]")
        self.expect_error(code.FAILED_PRECONDITION,
                          lambda: self.split(stub, LI_WEI, [("CORE", "1002")]),
                          "records[0]", ZHANG)
        self.expect_error(code.INVALID_ARGUMENT,
                          lambda: self.split(stub, LI_WEI, [("", "1001")]),
                          "records[0]")
        self.expect_error(code.NOT_FOUND,
                          lambda: self.split(stub, FIFTH, [("CORE", "1001")]),
                          "customer_number", FIFTH)
        self.stop(server)

    # ---- NotSameCustomer ----------------------------------------------------

    def test_not_same_blocks_merge(self):
        server, stub = self.start()
        reply = self.not_same(stub, OKAFOR_NO, HARRISON_NO)
        self.assertEqual(reply.customer_a, OKAFOR_NO)
        self.assertEqual(reply.customer_b, HARRISON_NO)
        self.assertEqual(reply.record_pair_count, 1)
        details = self.expect_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            lambda: self.merge(stub, HARRISON_NO, OKAFOR_NO),
            HARRISON_NO, OKAFOR_NO)
        self.assertIn("not the same", details)
        # The mark follows the records through a merge.
        self.merge(stub, ZHANG, OKAFOR_NO)
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.merge(stub, HARRISON_NO, ZHANG),
                          HARRISON_NO, ZHANG)
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.not_same(stub, ZHANG, OKAFOR_NO),
                          ZHANG)
        self.stop(server)

    # ---- Journal ------------------------------------------------------------

    def apply_three(self, stub):
        self.merge(stub, HARRISON_NO, ZHANG)
        self.split(stub, LI_WEI, [("CORE", "1001")])
        self.not_same(stub, OKAFOR_NO, ZHANG)

    def check_three(self, stub):
        self.assertEqual(self.customer(stub, HARRISON_NO).customer_number,
                         ZHANG)
        self.assertEqual(self.keys(self.customer(stub, FIFTH)),
                         [("CORE", "1001")])
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.merge(stub, OKAFOR_NO, ZHANG))

    def test_restart_replays_journal(self):
        server, stub = self.start()
        self.apply_three(stub)
        self.stop(server)
        server, stub = self.start()
        self.check_three(stub)
        self.assertEqual(self.merge(stub, LI_WEI, OKAFOR_NO).sequence, 4)
        log = self.stop(server)
        self.assertIn("replayed 3 corrections", log)

    def test_torn_last_entry_is_cut(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.stop(server)
        one_entry = os.path.getsize(self.journal)
        server, stub = self.start()
        self.split(stub, LI_WEI, [("CORE", "1001")])
        self.stop(server)
        os.truncate(self.journal, os.path.getsize(self.journal) - 5)

        server, stub = self.start()
        self.assertEqual(self.customer(stub, HARRISON_NO).customer_number,
                         ZHANG)
        self.assertEqual(len(self.customer(stub, LI_WEI).records), 2)
        self.expect_error(grpc.StatusCode.NOT_FOUND,
                          lambda: self.customer(stub, FIFTH))
        log = self.stop(server)
        self.assertIn("WARN", log)
        self.assertIn("torn last entry", log)
        self.assertEqual(os.path.getsize(self.journal), one_entry)

    def test_corrupt_middle_entry_stops_start(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.split(stub, LI_WEI, [("CORE", "1001")])
        self.stop(server)
        with open(self.journal, "r+b") as f:
            # Skip the 32-byte file header and the 8-byte frame to land
            # inside the first entry's body.
            f.seek(32 + 8 + 17)
            byte = f.read(1)
            f.seek(32 + 8 + 17)
            f.write(bytes([byte[0] ^ 0x55]))
        log_path = os.path.join(self.dir, "corrupt.log")
        with open(log_path, "w") as log:
            proc = subprocess.run(
                [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
                 "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=log,
                timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        with open(log_path) as f:
            text = f.read()
        self.assertIn("byte offset 32", text)
        # The message blames the journal, not the snapshot, and names the
        # fix.
        self.assertNotIn("snapshot)", text)
        self.assertIn("journal is damaged", text)
        self.assertIn(f"move '{self.journal}' away", text)

    def test_journal_of_other_snapshot_stops_start(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.stop(server)
        other = harness.import_snapshot(self.subdir("other"), RECORDS[:3],
                                        [])
        proc = subprocess.run(
            [harness.ECIFD, "--snapshot", other, "--journal", self.journal,
             "--listen", "127.0.0.1:0"], capture_output=True, text=True,
            timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("another snapshot", proc.stderr)
        self.assertNotIn("corrupt snapshot", proc.stderr)
        self.assertIn("ecifctl import --previous", proc.stderr)
        self.assertIn(f"move '{self.journal}' away", proc.stderr)

    # ---- Stop ---------------------------------------------------------------

    def test_stop_with_idle_client_is_prompt(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        # A second client makes one call and then stays connected, idle.
        idle = grpc.insecure_channel(server.address)
        self.addCleanup(idle.close)
        idle_stub = self.pb_grpc.CustomerIndexStub(idle)
        self.assertEqual(self.customer(idle_stub, HARRISON_NO)
                         .customer_number, ZHANG)
        started = time.monotonic()
        log = self.stop(server)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 1.0, log)
        self.assertNotIn("cancelled calls", log)
        self.assertIn("stopped", log)

    # ---- Re-import --------------------------------------------------------

    def reimport(self, records, previous, journal=None, name="next",
                 accounts=ACCOUNTS):
        output = os.path.join(self.dir, name + ".snap")
        options = ["--quiet", "--previous", previous]
        if journal is not None:
            options += ["--journal", journal]
        proc = harness.run_import(os.path.join(self.dir, name), output,
                                  records, accounts, options)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return output, proc

    def test_reimport_keeps_corrections(self):
        server, stub = self.start()
        self.apply_three(stub)
        self.stop(server)

        v2, _ = self.reimport(RECORDS, self.snapshot, self.journal)
        self.assertFalse(os.path.exists(v2 + ".journal"))
        server, stub = self.start(v2)
        self.check_three(stub)
        self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                         [("CARD", "C-77")])
        _, totals = self.exposure(stub, ZHANG)
        self.assertEqual(totals, {("Deposit", "CNY"): ("10500.00", 2)})
        # The split records still must not join the rest.
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.merge(stub, LI_WEI, FIFTH))
        self.stop(server)
        os.remove(v2 + ".journal")

        # A second re-import without a journal keeps the corrections from
        # the snapshot's own corrections section.
        v3, _ = self.reimport(RECORDS, v2, None, name="third")
        server, stub = self.start(v3)
        self.check_three(stub)
        self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                         [("CARD", "C-77")])
        self.stop(server)

    def test_override_undoes_split(self):
        # A steward splits Li Wei's card record out by mistake; a Merge
        # back is refused until it overrides the mark the split left.
        server, stub = self.start()
        self.split(stub, LI_WEI, [("CARD", "C-77")])
        self.expect_error(grpc.StatusCode.FAILED_PRECONDITION,
                          lambda: self.merge(stub, LI_WEI, FIFTH),
                          "marked not the same", "override_not_same")
        merged = stub.Merge(self.pb.MergeRequest(
            customer_a=LI_WEI, customer_b=FIFTH, reason="split in error",
            actor="steward.wang", override_not_same=True), timeout=10)
        self.assertEqual(merged.customer_number, LI_WEI)
        self.assertEqual(merged.record_count, 2)

        def check(stub):
            self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                             [("CARD", "C-77"), ("CORE", "1001")])
            # The split's number was retired into Li Wei's again.
            self.assertEqual(self.customer(stub, FIFTH).customer_number,
                             LI_WEI)

        self.check_lasting(server, stub, check)

    def test_rejected_writes_log_is_rate_limited(self):
        server, stub = self.start()
        calls = 300
        for _ in range(calls):
            with self.assertRaises(grpc.RpcError):
                self.merge(stub, ZHANG, "X42")
        log = self.stop(server)
        shown = log.count("Merge rejected: INVALID_ARGUMENT")
        left_out = sum(int(n) for n in re.findall(
            r"(\d+) rejected writes were not logged", log))
        self.assertEqual(shown + left_out, calls, log[-2000:])
        self.assertGreater(left_out, 0)

    def test_split_undoing_merge_returns_number(self):
        # A steward merges Harrison into Zhang Min by mistake and splits
        # Harrison's record out again: the retired number must lead to
        # Harrison's new customer, not to Zhang Min's debts.
        server, stub = self.start()
        self.merge(stub, ZHANG, HARRISON_NO)
        split = self.split(stub, ZHANG, [("CRM", "2001")])
        self.assertEqual(split.new_customer_number, FIFTH)

        def check(stub):
            reply = self.customer(stub, HARRISON_NO)
            self.assertEqual(reply.customer_number, FIFTH)
            self.assertEqual(reply.redirected_from, HARRISON_NO)
            self.assertEqual(self.keys(reply), [("CRM", "2001")])
            _, totals = self.exposure(stub, HARRISON_NO)
            self.assertEqual(totals, {("Deposit", "CNY"): ("2500.00", 1)})
            self.assertEqual(self.keys(self.customer(stub, ZHANG)),
                             [("CORE", "1002")])

        self.check_lasting(server, stub, check)

    def test_split_after_reimport_returns_number(self):
        # The mistaken merge is folded into a new snapshot by a nightly
        # re-import before the steward splits it: the retired number must
        # still follow Harrison's record.
        server, stub = self.start()
        self.merge(stub, ZHANG, HARRISON_NO)
        self.stop(server)
        v2, _ = self.reimport(RECORDS, self.snapshot, self.journal)
        server, stub = self.start(v2)
        split = self.split(stub, ZHANG, [("CRM", "2001")])
        reply = self.customer(stub, HARRISON_NO)
        self.assertEqual(reply.customer_number, split.new_customer_number)
        self.assertEqual(self.keys(reply), [("CRM", "2001")])
        self.stop(server)
        # And again after a second re-import that folds the split.
        v3, _ = self.reimport(RECORDS, v2, v2 + ".journal", name="third")
        server, stub = self.start(v3)
        self.assertEqual(self.keys(self.customer(stub, HARRISON_NO)),
                         [("CRM", "2001")])
        self.stop(server)

    def test_merge_survives_loss_of_its_hub_record(self):
        # A Merge's must-links meet at one record of the survivor, here
        # CARD/C-77. A re-import without that record keeps the merge.
        server, stub = self.start()
        self.merge(stub, LI_WEI, HARRISON_NO)
        self.stop(server)
        kept = [r for r in RECORDS if r is not LI_WEI_CARD]
        accounts = [a for a in ACCOUNTS if a["source_id"] != "C-77"]
        v2, _ = self.reimport(kept, self.snapshot, self.journal,
                              accounts=accounts)
        server, stub = self.start(v2)
        self.assertEqual(self.keys(self.customer(stub, LI_WEI)),
                         [("CORE", "1001"), ("CRM", "2001")])
        self.assertEqual(self.customer(stub, HARRISON_NO).customer_number,
                         LI_WEI)
        self.stop(server)

    def test_numbers_return_when_a_bridge_record_goes(self):
        # A bridging record joins two people at import. When a later
        # import no longer has it, each gets its own number back.
        ann = {"source_system": "A", "source_id": "1", "name": "Ann Lowe",
               "id_type": "PASSPORT", "id_number": "K11112222"}
        bob = [{"source_system": "B", "source_id": str(i),
                "name": "Ann Lowe", "phone": "+44 20 7946 0018"}
               for i in (1, 2)]
        bridge = {"source_system": "W", "source_id": "7", "name": "Ann Lowe",
                  "id_type": "PASSPORT", "id_number": "K11112222",
                  "phone": "+44 20 7946 0018"}
        v1 = harness.import_snapshot(self.subdir("bridge"), [ann] + bob, [])
        server, stub = self.start(v1)
        ann_no = self.resolve_best(stub, ann)
        bob_no = self.resolve_best(stub, bob[0])
        self.assertNotEqual(ann_no, bob_no)
        self.stop(server)
        v2, _ = self.reimport([ann] + bob + [bridge], v1, name="joined",
                              accounts=[])
        server, stub = self.start(v2)
        self.assertEqual(self.resolve_best(stub, ann),
                         self.resolve_best(stub, bob[0]))
        self.stop(server)
        v3, _ = self.reimport([ann] + bob, v2, name="apart", accounts=[])
        server, stub = self.start(v3)
        self.assertEqual(self.keys(self.customer(stub, ann_no)), [("A", "1")])
        self.assertEqual(self.keys(self.customer(stub, bob_no)),
                         [("B", "1"), ("B", "2")])
        self.stop(server)

    def test_chained_merges_keep_each_number_with_its_person(self):
        # The file order gives ids P4=0, P2=1, P1=2; the source keys give
        # numbers P1=C1, P2=C2, P4=C3. Merging C3 into C2 and C2 into C1
        # must still know that C2 was P2's number, not P4's.
        people = [
            {"source_system": "Z", "source_id": "4", "name": "Dora Quist",
             "id_type": "PASSPORT", "id_number": "Q40000004"},
            {"source_system": "B", "source_id": "2", "name": "Ben Arkwright",
             "id_type": "PASSPORT", "id_number": "B20000002"},
            {"source_system": "A", "source_id": "1", "name": "Ann Lovell",
             "id_type": "PASSPORT", "id_number": "A10000001"},
        ]
        snapshot = harness.import_snapshot(self.subdir("chain"), people, [])
        server, stub = self.start(snapshot)
        c1, c2, c3 = (f"C{n:012d}" for n in (1, 2, 3))
        self.merge(stub, c2, c3)
        self.merge(stub, c1, c2)
        ben = self.split(stub, c1, [("B", "2")]).new_customer_number
        dora = self.split(stub, c1, [("Z", "4")]).new_customer_number
        self.assertEqual(self.keys(self.customer(stub, c2)), [("B", "2")])
        self.assertEqual(self.customer(stub, c2).customer_number, ben)
        self.assertEqual(self.keys(self.customer(stub, c3)), [("Z", "4")])
        self.assertEqual(self.customer(stub, c3).customer_number, dora)
        self.assertEqual(self.keys(self.customer(stub, c1)), [("A", "1")])
        self.stop(server)

    def test_split_of_survivor_side_is_refused(self):
        # Moving Zhang Min's own record out of the merged customer would
        # leave her number to Harrison: the split must take his side.
        server, stub = self.start()
        self.merge(stub, ZHANG, HARRISON_NO)

        def refused(stub):
            self.expect_error(
                grpc.StatusCode.FAILED_PRECONDITION,
                lambda: self.split(stub, ZHANG, [("CORE", "1002")]),
                "records: record 'CORE/1002' carries customer "
                f"number {ZHANG}",
                f"split out the records of {HARRISON_NO} instead")

        refused(stub)
        self.stop(server)
        # Also once a re-import has folded the merge into the snapshot.
        v2, _ = self.reimport(RECORDS, self.snapshot, self.journal)
        server, stub = self.start(v2)
        refused(stub)
        self.assertEqual(self.split(stub, ZHANG, [("CRM", "2001")])
                         .new_customer_number, FIFTH)
        self.stop(server)

    def test_reimport_honours_not_same(self):
        v1 = harness.import_snapshot(self.subdir("chen"),
                                     [CHEN_PHONE, CHEN_EMAIL], [])
        server, stub = self.start(v1)
        self.assertEqual(self.not_same(stub, LI_WEI, ZHANG).record_pair_count,
                         1)
        self.stop(server)

        v2, proc = self.reimport([CHEN_PHONE, CHEN_EMAIL, CHEN_BOTH], v1,
                                 v1 + ".journal", accounts=[])
        self.assertIn("bridge", proc.stderr)
        server, stub = self.start(v2)
        first = self.customer(stub, LI_WEI)
        second = self.customer(stub, ZHANG)
        self.assertEqual(first.customer_number, LI_WEI)
        self.assertEqual(second.customer_number, ZHANG)
        self.assertEqual(len(first.records) + len(second.records), 3)
        self.stop(server)

    def test_reimport_rejects_journal_of_other_snapshot(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.stop(server)
        moved = os.path.join(self.dir, "moved.journal")
        os.rename(self.journal, moved)
        v2, _ = self.reimport(RECORDS + [CHEN_PHONE], self.snapshot, None,
                              name="plain")
        folder = self.subdir("bad")
        proc = harness.run_import(
            folder, os.path.join(folder, "out.snap"), RECORDS,
            options=["--quiet", "--previous", v2, "--journal", moved])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("another snapshot", proc.stderr)

    def test_reimport_without_journal_rejected(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.split(stub, LI_WEI, [("CORE", "1001")])
        self.stop(server)
        with open(self.snapshot, "rb") as f:
            snapshot_bytes = f.read()
        with open(self.journal, "rb") as f:
            journal_bytes = f.read()

        # Written in place, the new snapshot would orphan the journal beside
        # it. Written to another path, the journal beside --previous would
        # be lost.
        for output in (self.snapshot, os.path.join(self.dir, "new.snap")):
            proc = harness.run_import(
                self.subdir(os.path.basename(output) + ".in"), output,
                RECORDS + [CHEN_PHONE], ACCOUNTS,
                ["--quiet", "--previous", self.snapshot])
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn(f"'{self.journal}'", proc.stderr)
            self.assertIn("2 entries", proc.stderr)
            self.assertIn("--journal", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "new.snap")))
        with open(self.snapshot, "rb") as f:
            self.assertEqual(f.read(), snapshot_bytes)
        with open(self.journal, "rb") as f:
            self.assertEqual(f.read(), journal_bytes)

    def test_reimport_in_place_over_empty_journal(self):
        # ecifd leaves a journal with no entries, only the 32-byte header,
        # beside the snapshot.
        server, stub = self.start()
        self.stop(server)
        self.assertEqual(os.path.getsize(self.journal), 32)

        proc = harness.run_import(
            self.subdir("in"), self.snapshot, RECORDS + [CHEN_PHONE],
            ACCOUNTS, ["--quiet", "--previous", self.snapshot])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(self.journal))
        self.assertIn(f"removed '{self.journal}'", proc.stderr)
        server, stub = self.start()
        self.assertEqual(len(self.customer(stub, FIFTH).records), 1)
        self.stop(server)

    def test_reimport_in_place_keeps_folded_journal(self):
        server, stub = self.start()
        self.merge(stub, HARRISON_NO, ZHANG)
        self.stop(server)
        with open(self.journal, "rb") as f:
            journal_bytes = f.read()

        proc = harness.run_import(
            self.subdir("in"), self.snapshot, RECORDS + [CHEN_PHONE],
            ACCOUNTS,
            ["--quiet", "--previous", self.snapshot, "--journal",
             self.journal])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(self.journal))
        folded = [n for n in os.listdir(self.dir)
                  if n.startswith(os.path.basename(self.journal) + ".folded")]
        self.assertEqual(len(folded), 1, os.listdir(self.dir))
        self.assertIn(folded[0], proc.stderr)
        with open(os.path.join(self.dir, folded[0]), "rb") as f:
            self.assertEqual(f.read(), journal_bytes)

        # The folded journal blocks neither a start nor the next import.
        server, stub = self.start()
        self.assertEqual(self.customer(stub, HARRISON_NO).customer_number,
                         ZHANG)
        self.stop(server)
        os.remove(self.journal)
        self.reimport(RECORDS, self.snapshot, None, name="after")

    # ---- ecifctl ----------------------------------------------------------

    def ctl(self, server, *args):
        return subprocess.run(
            [harness.ECIFCTL] + list(args[:1]) + ["--server", server.address]
            + list(args[1:]), capture_output=True, text=True, timeout=60)

    def test_ecifctl_commands(self):
        server, stub = self.start()
        proc = self.ctl(server, "split", "--reason", "two people",
                        "--actor", "steward.wang", LI_WEI, "CORE/1001")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"moved to new customer {FIFTH}", proc.stdout)
        proc = self.ctl(server, "merge", "--reason", "one person",
                        "--actor", "steward.wang", "--json", OKAFOR_NO,
                        HARRISON_NO)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f'"retired_number":"{OKAFOR_NO}"', proc.stdout)
        self.assertIn('"sequence":"2"', proc.stdout)
        for command in ("customer", "exposure"):
            proc = self.ctl(server, command, OKAFOR_NO)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout.splitlines()[0],
                             f"customer {HARRISON_NO} (asked for "
                             f"{OKAFOR_NO}, merged into it)")
        proc = self.ctl(server, "not-same", "--reason", "different",
                        "--actor", "steward.wang", ZHANG, HARRISON_NO)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("2 record pairs", proc.stdout)
        proc = self.ctl(server, "merge", "--reason", "again", "--actor",
                        "steward.wang", ZHANG, HARRISON_NO)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("FAILED_PRECONDITION", proc.stderr)
        proc = self.ctl(server, "merge", ZHANG, HARRISON_NO)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--reason", proc.stderr)
        proc = self.ctl(server, "split", "--reason", "x", "--actor", "s",
                        LI_WEI, "CORE1001")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("SYSTEM/ID", proc.stderr)
        self.stop(server)

    # ---- Concurrency ------------------------------------------------------

    def test_resolve_during_corrections(self):
        letters = "bcdfghjklmnpqrstvwxz"
        people = [{"source_system": "LOAD", "source_id": f"{i:03d}",
                   "name": load_name(letters, i),
                   "phone": f"1380000{i:04d}", "dob": f"19{50 + i}-01-01"}
                  for i in range(40)]
        accounts = [{"source_system": "LOAD", "source_id": f"{i:03d}",
                     "account_id": f"A{i}", "product": "loan",
                     "credit_limit": "100", "balance": "10",
                     "currency": "CNY"} for i in range(40)]
        snapshot = harness.import_snapshot(self.subdir("load"), people,
                                           accounts)
        server, stub = self.start(snapshot)
        first = f"C{1:012d}"
        self.assertEqual(len(self.customer(stub, first).records), 1)
        stop = threading.Event()
        errors = []
        calls = [0]

        def reader():
            local = self.pb_grpc.CustomerIndexStub(server.channel)
            last = 0
            while not stop.is_set():
                try:
                    best = self.resolve_best(local, people[0])
                    got = self.customer(local, first)
                    exposure, totals = self.exposure(local, first)
                except grpc.RpcError as e:
                    errors.append(f"{e.code()}: {e.details()}")
                    return
                calls[0] += 1
                n = len(got.records)
                if best != first:
                    errors.append(f"Resolve returned {best}")
                if n < last:
                    errors.append(f"{first} shrank from {last} to {n}")
                last = n
                count = sum(t.account_count for t in exposure.totals)
                if count != len(exposure.accounts):
                    errors.append(f"{count} accounts in totals, "
                                  f"{len(exposure.accounts)} listed")
                if count < n:
                    errors.append(f"{count} accounts in totals, {n} records")

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(2, 41):
                reply = self.merge(stub, f"C{i:012d}", first)
                self.assertEqual(reply.record_count, i)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertGreater(calls[0], 0)
        got = self.customer(stub, first)
        self.assertEqual(len(got.records), 40)
        self.assertEqual(len(got.merged_numbers), 39)
        self.stop(server)

if __name__ == "__main__":
    unittest.main()
