"""Integration tests of a customer's audit history on a real ecifd.

GetHistory returns a merge, a split, a not-same and adds with the time and
actor of each journal entry, and the same history after a restart replays
the journal. A retired number returns its survivor's history, and numbers
retired at import come first. Corrections without an actor are rejected.
Also covers GetHistory in pages and during adds, ecifctl history and
--actor.
"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest

import grpc

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
# customers at the next import.
LI_WEI_BOTH = {"source_system": "WEB", "source_id": "7", "name": "Li Wei",
               "phone": "13911112222", "email": "liwei@mail.cn"}
# Added while serving, and no stored record resembles her.
OKAFOR = {"source_system": "CLINIC", "source_id": "P-1",
          "name": "Chinedu Okafor", "id_type": "PASSPORT",
          "id_number": "A09876543", "dob": "1992-06-15"}
SECOND_OKAFOR = dict(OKAFOR, source_id="P-2")


def number(n):
    return f"C{n:012d}"


# Import numbers customers in the order of their first record's
# (source_system, source_id): CARD/2, CORE/1, HR/3, OPS/9.
LI_EMAIL_NO, LI_PHONE_NO, WANG_NO, ZHAO_NO = (number(n) for n in (1, 2, 3, 4))


def login_name(user):
    """Return the default actor of ecifctl when $USER is user.

    ecifctl sends the login name from getlogin_r(), or else $USER.
    """
    try:
        return os.getlogin()
    except OSError:
        return user


class HistoryTest(harness.ServerTestCase):
    RECORDS = [LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG, ZHAO_LEI]

    def history(self, stub, customer):
        return stub.GetHistory(self.pb.GetHistoryRequest(
            customer_number=customer), timeout=10)

    def merge(self, stub, a, b, actor, reason="same person"):
        return stub.Merge(self.pb.MergeRequest(
            customer_a=a, customer_b=b, reason=reason, actor=actor),
            timeout=10)

    def split(self, stub, customer, keys, actor, reason="two people"):
        refs = [self.pb.RecordRef(source_system=s, source_id=i)
                for s, i in keys]
        return stub.Split(self.pb.SplitRequest(
            customer_number=customer, records=refs, reason=reason,
            actor=actor), timeout=10)

    def not_same(self, stub, a, b, actor, reason="different people"):
        return stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
            customer_a=a, customer_b=b, reason=reason, actor=actor),
            timeout=10)

    def add(self, stub, fields, actor=""):
        return stub.AddRecord(self.pb.AddRecordRequest(
            record=self.record(fields), actor=actor), timeout=10)

    def summary(self, reply):
        """Return the events of a history reply as comparable tuples."""
        return [(e.kind, e.sequence, e.time_micros, e.actor, e.reason,
                 e.customer_number, e.other_customer_number, e.record_count,
                 e.other_record_count, e.moved_record_count, e.joined)
                for e in reply.events]

    def apply_all(self, stub):
        """Apply a merge, a not-same, a split and two adds.

        Return the replies of the two adds.
        """
        merge = self.merge(stub, LI_EMAIL_NO, LI_PHONE_NO, "steward.li",
                           "one phone and one email, same man")
        self.assertEqual(merge.sequence, 1)
        self.not_same(stub, LI_EMAIL_NO, WANG_NO, "steward.wu",
                      "checked with the branch")
        split = self.split(stub, LI_EMAIL_NO, [("CORE", "1")], "steward.li")
        self.assertEqual(split.new_customer_number, number(5))
        created = self.add(stub, OKAFOR, "clinic-feed")
        joined = self.add(stub, SECOND_OKAFOR)
        return created, joined

    def test_history_of_corrections_and_adds(self):
        server, stub = self.start()
        self.assertEqual(len(self.history(stub, LI_EMAIL_NO).events), 0)
        before = int(time.time() * 1e6)
        created, joined = self.apply_all(stub)
        after = int(time.time() * 1e6) + 1

        kind = self.pb
        reply = self.history(stub, LI_EMAIL_NO)
        self.assertEqual(reply.customer_number, LI_EMAIL_NO)
        self.assertEqual(reply.redirected_from, "")
        events = reply.events
        self.assertEqual([e.kind for e in events],
                         [kind.MERGE, kind.NOT_SAME, kind.SPLIT])
        self.assertEqual([e.sequence for e in events], [1, 2, 3])
        self.assertEqual([e.actor for e in events],
                         ["steward.li", "steward.wu", "steward.li"])
        times = [e.time_micros for e in events]
        self.assertEqual(times, sorted(times))
        self.assertGreaterEqual(times[0], before)
        self.assertLessEqual(times[-1], after)
        merge, not_same, split = events
        self.assertEqual(merge.reason, "one phone and one email, same man")
        self.assertEqual((merge.customer_number, merge.other_customer_number),
                         (LI_EMAIL_NO, LI_PHONE_NO))
        self.assertEqual((merge.record_count, merge.moved_record_count),
                         (2, 1))
        self.assertEqual(not_same.other_customer_number, WANG_NO)
        self.assertEqual((not_same.record_count, not_same.other_record_count),
                         (2, 1))
        self.assertEqual(split.other_customer_number, number(5))
        self.assertEqual((split.record_count, split.other_record_count,
                          split.moved_record_count), (1, 1, 1))

        # The split moved CORE/1, the record that LI_PHONE_NO carried
        # before the merge, so that number now leads to the new customer,
        # whose history has the merge that retired it and the split. Wang
        # Fang has only the not-same, and Zhao Lei has nothing.
        fifth = self.history(stub, number(5))
        self.assertEqual([e.sequence for e in fifth.events], [1, 3])
        self.assertEqual([e.sequence for e in
                          self.history(stub, WANG_NO).events], [2])
        self.assertEqual(len(self.history(stub, ZHAO_NO).events), 0)

        # The first add created a customer and the second joined it. The
        # second add sent no actor.
        self.assertEqual(created.outcome, self.pb.NEW_NO_MATCH)
        self.assertEqual(joined.customer_number, created.customer_number)
        adds = self.history(stub, created.customer_number).events
        self.assertEqual([(e.kind, e.sequence, e.actor, e.joined,
                           e.record_count) for e in adds],
                         [(kind.ADD, 4, "clinic-feed", False, 1),
                          (kind.ADD, 5, "", joined.outcome == kind.JOINED,
                           joined.record_count)])
        self.assertEqual(adds[0].customer_number, created.customer_number)

        # A retired number returns its survivor's history.
        retired = self.history(stub, LI_PHONE_NO)
        self.assertEqual(retired.customer_number, number(5))
        self.assertEqual(retired.redirected_from, LI_PHONE_NO)
        self.assertEqual(self.summary(retired), self.summary(fifth))

        self.expect_error(grpc.StatusCode.NOT_FOUND,
                          lambda: self.history(stub, number(99)), number(99))
        self.expect_error(grpc.StatusCode.INVALID_ARGUMENT,
                          lambda: self.history(stub, ""), "customer_number")
        expected = {n: self.summary(self.history(stub, n))
                    for n in (LI_EMAIL_NO, number(5), WANG_NO,
                              created.customer_number)}
        self.stop(server)

        # The same history, times and actors included, after a replay.
        server, stub = self.start()
        for n, summary in expected.items():
            self.assertEqual(self.summary(self.history(stub, n)), summary, n)
        self.assertIn("replayed 3 corrections and 2 added records",
                      self.stop(server))

    def test_actor_is_checked(self):
        server, stub = self.start()
        code = grpc.StatusCode.INVALID_ARGUMENT
        long_actor = "a" * 129
        for call in (
                lambda a: self.merge(stub, LI_EMAIL_NO, LI_PHONE_NO, a),
                lambda a: self.split(stub, LI_EMAIL_NO, [("CARD", "2")], a),
                lambda a: self.not_same(stub, LI_EMAIL_NO, WANG_NO, a)):
            self.expect_error(code, lambda: call(""), "actor is required")
            self.expect_error(code, lambda: call(long_actor), "actor",
                              "129 bytes", "at most 128")
        self.expect_error(code, lambda: self.add(stub, OKAFOR, long_actor),
                          "actor", "at most 128")
        # The rejected calls wrote nothing, so this merge is sequence 1.
        # An actor of 128 bytes is accepted.
        reply = self.merge(stub, LI_EMAIL_NO, LI_PHONE_NO, "b" * 128)
        self.assertEqual(reply.sequence, 1)
        self.assertEqual(self.history(stub, LI_EMAIL_NO).events[0].actor,
                         "b" * 128)
        self.stop(server)

    def start_reimported(self):
        """Import the records again with Li Wei's joining one, over the
        test's snapshot, and start a server on the result."""
        output = os.path.join(self.dir, "next.snap")
        proc = harness.run_import(
            os.path.join(self.dir, "next"), output,
            [LI_WEI_PHONE, LI_WEI_EMAIL, WANG_FANG, ZHAO_LEI, LI_WEI_BOTH],
            options=["--quiet", "--previous", self.snapshot])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return self.start(output)

    def test_numbers_retired_at_import_come_first(self):
        server, stub = self.start_reimported()

        kind = self.pb
        reply = self.history(stub, LI_PHONE_NO)
        self.assertEqual(reply.customer_number, LI_EMAIL_NO)
        self.assertEqual(reply.redirected_from, LI_PHONE_NO)
        (imported,) = reply.events
        self.assertEqual(imported.kind, kind.MERGED_AT_IMPORT)
        self.assertEqual((imported.sequence, imported.time_micros,
                          imported.actor), (0, 0, ""))
        self.assertEqual((imported.customer_number,
                          imported.other_customer_number),
                         (LI_EMAIL_NO, LI_PHONE_NO))

        # A merge in the journal follows the import event, and the number
        # that the merge retires returns the whole history too.
        self.merge(stub, LI_EMAIL_NO, WANG_NO, "steward.li")
        for n in (LI_EMAIL_NO, LI_PHONE_NO, WANG_NO):
            events = self.history(stub, n).events
            self.assertEqual([(e.kind, e.sequence) for e in events],
                             [(kind.MERGED_AT_IMPORT, 0), (kind.MERGE, 1)], n)
        self.assertEqual(len(self.history(stub, ZHAO_NO).events), 0)

        text = self.ctl(server, "history", LI_PHONE_NO)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn(f"history of customer {LI_EMAIL_NO}", text.stdout)
        self.assertIn(f"at import  {LI_PHONE_NO} retired into {LI_EMAIL_NO}",
                      text.stdout)
        self.assertIn("by steward.li", text.stdout)
        self.stop(server)

    def history_page(self, stub, customer, size, token=""):
        return stub.GetHistory(self.pb.GetHistoryRequest(
            customer_number=customer, page_size=size, page_token=token),
            timeout=10)

    def test_history_in_pages(self):
        server, stub = self.start_reimported()

        # Li Wei's history: the number retired at import, two merges, a
        # not-same and a split. The add between them is another customer's.
        self.merge(stub, LI_EMAIL_NO, WANG_NO, "steward.li")
        self.merge(stub, LI_EMAIL_NO, ZHAO_NO, "steward.li")
        okafor = self.add(stub, OKAFOR, "clinic-feed").customer_number
        self.not_same(stub, LI_EMAIL_NO, okafor, "steward.wu")
        self.split(stub, LI_EMAIL_NO, [("HR", "3")], "steward.wu")
        whole = self.history(stub, LI_PHONE_NO)
        self.assertEqual([e.sequence for e in whole.events], [0, 1, 2, 4, 5])
        self.assertEqual(whole.next_page_token, "")

        for size in (1, 2, 3, 5, 6):
            pages, token = [], ""
            for _ in range(10):
                page = self.history_page(stub, LI_PHONE_NO, size, token)
                self.assertEqual(page.customer_number, LI_EMAIL_NO)
                self.assertEqual(page.redirected_from, LI_PHONE_NO)
                self.assertLessEqual(len(page.events), size)
                pages.append(page)
                token = page.next_page_token
                if not token:
                    break
            self.assertEqual(token, "", size)
            self.assertEqual(len(pages), -(-5 // size), size)
            joined = [event for page in pages
                      for event in self.summary(page)]
            self.assertEqual(joined, self.summary(whole), size)

        first = self.history_page(stub, LI_EMAIL_NO, 1)
        self.assertEqual(first.next_page_token, f"{LI_EMAIL_NO}:i1")
        second = self.history_page(stub, LI_EMAIL_NO, 2,
                                   first.next_page_token)
        self.assertEqual([e.sequence for e in second.events], [1, 2])
        self.assertEqual(second.next_page_token, f"{LI_EMAIL_NO}:s2")
        # A page size above the maximum is taken as the maximum.
        self.assertEqual(len(self.history_page(
            stub, LI_EMAIL_NO, 2**32 - 1).events), 5)

        for token in ("garbage", f"{okafor}:s1", f"{LI_EMAIL_NO}:i2",
                      f"{LI_EMAIL_NO}:s", f"{LI_EMAIL_NO}:sx",
                      f"{LI_EMAIL_NO}:q1", f"{LI_EMAIL_NO}:s-1"):
            with self.assertRaises(grpc.RpcError, msg=token) as caught:
                self.history_page(stub, LI_EMAIL_NO, 2, token)
            self.assertEqual(caught.exception.code(),
                             grpc.StatusCode.INVALID_ARGUMENT, token)
            self.assertIn("page_token", caught.exception.details(), token)
            self.assertIn(token[:40], caught.exception.details(), token)

        text = self.ctl(server, "history", "--page-size", "2", LI_PHONE_NO)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn(": 5 events", text.stdout)
        for seq in (1, 2, 4, 5):
            self.assertIn(f"#{seq} ", text.stdout)
        text = self.ctl(server, "history", "--page-size", "0", LI_PHONE_NO)
        self.assertEqual(text.returncode, 2)
        self.assertIn("--page-size", text.stderr)
        self.stop(server)

    def test_history_read_during_adds(self):
        """Read GetHistory while adds grow the history past its initial
        capacity, and check that every reply is a whole prefix of the adds.
        """
        server, stub = self.start()
        added = 40
        stop = threading.Event()
        seen = []
        failures = []

        def reader():
            for _ in range(2000):
                if stop.is_set():
                    break
                try:
                    reply = self.history(stub, ZHAO_NO)
                except grpc.RpcError as e:
                    failures.append(e.details())
                    break
                sequences = [e.sequence for e in reply.events]
                if sequences != list(range(1, len(sequences) + 1)):
                    failures.append(sequences)
                    break
                seen.append(len(sequences))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for i in range(added):
                record = dict(ZHAO_LEI, source_system="BRANCH",
                              source_id=str(i))
                reply = self.add(stub, record, f"teller.{i}")
                self.assertEqual(reply.customer_number, ZHAO_NO)
        finally:
            stop.set()
            thread.join(timeout=60)
        self.assertEqual(failures, [])
        self.assertEqual(seen, sorted(seen))
        events = self.history(stub, ZHAO_NO).events
        self.assertEqual(len(events), added)
        self.assertEqual(events[-1].actor, f"teller.{added - 1}")
        self.assertEqual(events[-1].record_count, added + 1)
        self.stop(server)

    # ---- ecifctl ----------------------------------------------------------

    def ctl(self, server, *args, user=None):
        env = dict(os.environ)
        env.pop("USER", None)
        if user is not None:
            env["USER"] = user
        return subprocess.run(
            [harness.ECIFCTL] + list(args[:1]) + ["--server", server.address]
            + list(args[1:]), capture_output=True, text=True, timeout=60,
            env=env)

    def test_ecifctl_actor_and_history(self):
        server, stub = self.start()
        proc = self.ctl(server, "merge", "--reason", "same man", "--actor",
                        "auditor.zhou", LI_EMAIL_NO, LI_PHONE_NO)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.ctl(server, "not-same", "--reason", "different",
                        LI_EMAIL_NO, WANG_NO, user="teller.env")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.ctl(server, "add", "--source-system", "CLINIC",
                        "--source-id", "P-1", "--name", "Chinedu Okafor",
                        "--actor", "clinic-feed")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        events = self.history(stub, LI_EMAIL_NO).events
        self.assertEqual([e.actor for e in events],
                         ["auditor.zhou", login_name("teller.env")])

        proc = self.ctl(server, "history", LI_PHONE_NO)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"({LI_PHONE_NO} was retired into it): 2 events",
                      proc.stdout)
        self.assertIn("by auditor.zhou", proc.stdout)
        self.assertIn(f"merge: {LI_PHONE_NO} retired into {LI_EMAIL_NO}",
                      proc.stdout)
        self.assertIn("reason: same man", proc.stdout)
        # One event and one record read in the singular.
        proc = self.ctl(server, "history", WANG_NO)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"history of customer {WANG_NO}: 1 event\n",
                      proc.stdout)
        self.assertIn(f"not-same: {LI_EMAIL_NO} (2 records) and {WANG_NO} "
                      "(1 record)\n", proc.stdout)
        proc = self.ctl(server, "history", "--json", number(5))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('"actor":"clinic-feed"', proc.stdout)
        self.assertIn('"kind":"ADD"', proc.stdout)
        # 64-bit integers are strings, as in the proto3 JSON mapping, and
        # bools are JSON booleans.
        events = json.loads(proc.stdout)["events"]
        expected = self.history(stub, number(5)).events
        self.assertEqual(len(events), len(expected))
        for event, want in zip(events, expected):
            self.assertEqual(event["time_micros"], str(want.time_micros))
            self.assertGreater(int(event["time_micros"]), 0)
            self.assertEqual(event["sequence"], str(want.sequence))
            self.assertIs(event["joined"], want.joined)
        proc = self.ctl(server, "history", number(99))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("NOT_FOUND", proc.stderr)
        proc = self.ctl(server, "merge", "--help")
        self.assertIn("getlogin_r", proc.stdout)
        try:
            os.getlogin()
        except OSError:
            # Without a login name or $USER, a correction needs --actor.
            proc = self.ctl(server, "split", "--reason", "x", ZHAO_NO,
                            "OPS/9")
            self.assertEqual(proc.returncode, 2)
            self.assertIn("--actor NAME is required", proc.stderr)
        proc = self.ctl(server, "merge", "--reason", "x", "--actor",
                        "c" * 129, LI_EMAIL_NO, ZHAO_NO)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("at most 128", proc.stderr)
        self.stop(server)


if __name__ == "__main__":
    unittest.main()
