"""Integration tests of access control and the audit log of ecifd.

Starts ecifd with --access and --audit-log and calls it with Python's
grpcio and with ecifctl. Checks who may call what (rpc/ACCESS.md) and what
the audit log and the journal record. Neither the logs nor a status
message may contain a token or a record's values.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WANG = {
    "source_system": "CORE", "source_id": "1", "name": "Wang Fang",
    "id_type": "PASSPORT", "id_number": "E55501234",
    "phone": "+86 139 5550 1234", "dob": "1983-04-05", "gender": "F",
}
WANG_CARD = dict(WANG, source_system="CARD", source_id="9")
ORTEGA = {
    "source_system": "CORE", "source_id": "2", "name": "Lucia Ortega",
    "id_type": "PASSPORT", "id_number": "X77001122",
    "phone": "+34 612 555 010", "dob": "1990-12-24", "gender": "F",
}
ACCOUNTS = [
    {"source_system": "CORE", "source_id": "1", "account_id": "L-1",
     "product": "loan", "credit_limit": "1000", "balance": "250",
     "currency": "CNY", "branch": "B1"},
]

# Values of the records that must never appear in a log.
PERSONAL = ["Wang", "Fang", "E55501234", "5550", "1983", "Ortega",
            "X77001122"]


class AccessTest(harness.ServerTestCase):
    RECORDS = [WANG, WANG_CARD, ORTEGA]
    ACCOUNTS = ACCOUNTS

    def make_token(self, principal, scopes):
        """Run ecifctl token and return (token, access line)."""
        proc = subprocess.run(
            [harness.ECIFCTL, "token", "--principal", principal,
             "--scopes", scopes], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        token = proc.stdout.strip()
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        return token, proc.stderr.strip().splitlines()[-1]

    def setUp(self):
        super().setUp()
        self.tokens = {}
        lines = []
        for principal, scopes in (("loans", "resolve,exposure"),
                                  ("steward", "read,correct"),
                                  ("onboarding", "add")):
            token, line = self.make_token(principal, scopes)
            self.tokens[principal] = token
            lines.append(line)
        self.access = os.path.join(self.dir, "access")
        with open(self.access, "w", encoding="utf-8") as f:
            f.write("# principal scopes digest\n\n" + "\n".join(lines) + "\n")
        os.chmod(self.access, 0o600)
        self.audit = os.path.join(self.dir, "audit.log")

    def start_guarded(self):
        return self.start(extra_args=["--access", self.access,
                                      "--audit-log", self.audit])

    def auth(self, principal):
        return (("authorization", "Bearer " + self.tokens[principal]),)

    def wait_for_file(self, path, server):
        """Wait up to 10 s for ecifd to create path again after SIGHUP."""
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            self.assertLess(time.monotonic(), deadline, server.read_log())
            time.sleep(0.02)

    def audit_lines(self):
        with open(self.audit, encoding="utf-8") as f:
            return f.read().splitlines()

    def number_of(self, stub, fields):
        reply = stub.Resolve(self.pb.ResolveRequest(
            record=self.record(fields)), timeout=10,
            metadata=self.auth("loans"))
        return reply.candidates[0].customer_number

    def test_missing_or_unknown_token_rejected(self):
        server, stub = self.start_guarded()
        request = self.pb.ResolveRequest(record=self.record(WANG))
        cases = [
            ("none", ()),
            ("unknown", (("authorization", "Bearer " + "0" * 64),)),
            ("other scheme", (("authorization",
                               "Basic " + self.tokens["loans"]),)),
            ("empty", (("authorization", "Bearer "),)),
        ]
        for label, metadata in cases:
            with self.subTest(label):
                with self.assertRaises(grpc.RpcError) as ctx:
                    stub.Resolve(request, timeout=10, metadata=metadata)
                self.assertEqual(ctx.exception.code(),
                                 grpc.StatusCode.UNAUTHENTICATED)
                self.assertIn("bearer token is required",
                              ctx.exception.details())
                self.assertNotIn(self.tokens["loans"],
                                 ctx.exception.details())
        self.stop(server)

    def test_scope_decides_each_method(self):
        server, stub = self.start_guarded()
        number = self.number_of(stub, WANG)
        get = self.pb.GetCustomerRequest(customer_number=number)
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.GetCustomer(get, timeout=10, metadata=self.auth("loans"))
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(
            ctx.exception.details(),
            "principal 'loans' lacks the scope 'read' that GetCustomer needs")
        reply = stub.GetCustomer(get, timeout=10,
                                 metadata=self.auth("steward"))
        self.assertEqual(reply.customer_number, number)
        exposure = stub.GetExposure(
            self.pb.GetExposureRequest(customer_number=number), timeout=10,
            metadata=self.auth("loans"))
        self.assertEqual(exposure.customer_number, number)
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.Resolve(self.pb.ResolveRequest(record=self.record(WANG)),
                         timeout=10, metadata=self.auth("onboarding"))
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.PERMISSION_DENIED)
        self.stop(server)

    def test_unauthenticated_audit_lines_are_limited(self):
        server, stub = self.start_guarded()
        calls = 300
        request = self.pb.ResolveRequest(record=self.record(WANG))
        for _ in range(calls):
            with self.assertRaises(grpc.RpcError):
                stub.Resolve(request, timeout=10)
        self.stop(server)
        lines = self.audit_lines()
        written = sum(1 for l in lines
                      if "status=UNAUTHENTICATED" in l and "suppressed" not in l)
        left_out = sum(int(m.group(1)) for m in (
            re.search(r" suppressed=(\d+)$", l) for l in lines) if m)
        self.assertEqual(written + left_out, calls)
        self.assertGreater(left_out, 0)

    def test_two_authorization_entries_rejected(self):
        server, stub = self.start_guarded()
        request = self.pb.ResolveRequest(record=self.record(WANG))
        for tokens in ((self.tokens["loans"], self.tokens["loans"]),
                       (self.tokens["loans"], "0" * 64)):
            with self.subTest(tokens=len(set(tokens))):
                with self.assertRaises(grpc.RpcError) as ctx:
                    stub.Resolve(request, timeout=10, metadata=[
                        ("authorization", "Bearer " + t) for t in tokens])
                self.assertEqual(ctx.exception.code(),
                                 grpc.StatusCode.UNAUTHENTICATED)
        self.stop(server)

    def test_failed_call_audits_named_customers(self):
        server, stub = self.start_guarded()
        wang = self.number_of(stub, WANG)
        ortega = self.number_of(stub, ORTEGA)
        stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
            customer_a=wang, customer_b=ortega, reason="checked"),
            timeout=10, metadata=self.auth("steward"))
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.Merge(self.pb.MergeRequest(
                customer_a=wang, customer_b=ortega, reason="again"),
                timeout=10, metadata=self.auth("steward"))
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.FAILED_PRECONDITION)
        self.stop(server)
        self.assertRegex(self.audit_lines()[-1],
                         r" method=Merge status=FAILED_PRECONDITION us=\d+ "
                         f"customers={wang},{ortega}$")

    def test_retired_number_is_in_the_audit_line(self):
        server, stub = self.start_guarded()
        wang = self.number_of(stub, WANG)
        ortega = self.number_of(stub, ORTEGA)
        merged = stub.Merge(self.pb.MergeRequest(
            customer_a=wang, customer_b=ortega, reason="one person"),
            timeout=10, metadata=self.auth("steward"))
        stub.GetCustomer(self.pb.GetCustomerRequest(
            customer_number=merged.retired_number), timeout=10,
            metadata=self.auth("steward"))
        # Through the survivor, the reply still shows the retired number:
        # in merged_numbers and as the other customer of the merge event.
        stub.GetCustomer(self.pb.GetCustomerRequest(
            customer_number=merged.customer_number), timeout=10,
            metadata=self.auth("steward"))
        stub.GetHistory(self.pb.GetHistoryRequest(
            customer_number=merged.customer_number), timeout=10,
            metadata=self.auth("steward"))
        self.stop(server)
        both = f"customers={merged.customer_number},{merged.retired_number}"
        lines = self.audit_lines()
        self.assertRegex(lines[-3],
                         r" method=GetCustomer status=OK us=\d+ " + both + "$")
        self.assertRegex(lines[-2],
                         r" method=GetCustomer status=OK us=\d+ " + both + "$")
        self.assertRegex(lines[-1],
                         r" method=GetHistory status=OK us=\d+ " + both + "$")

    def test_oversized_response_is_audited_as_failed(self):
        server, stub = self.start(extra_args=[
            "--access", self.access, "--audit-log", self.audit,
            "--max-message-bytes", "1024"])
        number = self.number_of(stub, WANG)
        long_address = "Building 7, " + "Long Street " * 30
        stub.AddRecord(self.pb.AddRecordRequest(record=self.record(dict(
            WANG, source_system="WEALTH", source_id="W-1",
            addresses=[long_address]))), timeout=10,
            metadata=self.auth("onboarding"))
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.GetCustomer(self.pb.GetCustomerRequest(
                customer_number=number), timeout=10,
                metadata=self.auth("steward"))
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("is larger than --max-message-bytes 1024",
                      ctx.exception.details())
        self.stop(server)
        self.assertIn("method=GetCustomer status=RESOURCE_EXHAUSTED",
                      self.audit_lines()[-1])

    def test_health_needs_no_token(self):
        server, _ = self.start_guarded()
        check = harness.health_check_method(server.channel, self.health_pb2)
        reply = check(self.health_pb2.HealthCheckRequest(), timeout=10)
        self.assertEqual(reply.status,
                         self.health_pb2.HealthCheckResponse.SERVING)
        self.stop(server)
        self.assertEqual(self.audit_lines(), [])

    def test_audit_lines_name_caller_and_customers(self):
        server, stub = self.start_guarded()
        number = self.number_of(stub, WANG)
        with self.assertRaises(grpc.RpcError):
            stub.GetCustomer(self.pb.GetCustomerRequest(
                customer_number=number), timeout=10)
        log = self.stop(server)
        lines = self.audit_lines()
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(
            lines[0],
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z principal=loans "
            r"method=Resolve status=OK us=\d+ customers=" + number + r"$")
        self.assertRegex(
            lines[1], r" principal=- method=GetCustomer "
            r"status=UNAUTHENTICATED us=\d+ customers=-$")
        self.assertEqual(os.stat(self.audit).st_mode & 0o777, 0o600)
        for text in [log, "\n".join(lines)]:
            for value in PERSONAL + list(self.tokens.values()):
                self.assertNotIn(value, text)

    def test_journal_actor_is_principal(self):
        server, stub = self.start_guarded()
        wang = self.number_of(stub, WANG)
        ortega = self.number_of(stub, ORTEGA)
        stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
            customer_a=wang, customer_b=ortega, reason="checked papers"),
            timeout=10, metadata=self.auth("steward"))
        stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
            customer_a=wang, customer_b=ortega, reason="checked again",
            actor="anna.li"), timeout=10, metadata=self.auth("steward"))
        history = stub.GetHistory(self.pb.GetHistoryRequest(
            customer_number=wang), timeout=10, metadata=self.auth("steward"))
        self.assertEqual([e.actor for e in history.events],
                         ["steward", "steward:anna.li"])
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.NotSameCustomer(self.pb.NotSameCustomerRequest(
                customer_a=wang, customer_b=ortega, reason="too long",
                actor="a" * 128), timeout=10, metadata=self.auth("steward"))
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("actor: 128 bytes, at most 120 after the principal "
                      "'steward'", ctx.exception.details())
        self.stop(server)
        lines = self.audit_lines()
        self.assertIn("method=NotSameCustomer status=INVALID_ARGUMENT",
                      lines[-1])

    def test_ecifctl_sends_token_file(self):
        server, stub = self.start_guarded()
        number = self.number_of(stub, WANG)
        token_file = os.path.join(self.dir, "steward.token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(self.tokens["steward"] + "\n")
        env = dict(os.environ, ECIF_TOKEN_FILE=token_file)
        env.pop("USER", None)

        def customer(env=env):
            return subprocess.run(
                [harness.ECIFCTL, "customer", "--server", server.address,
                 number], capture_output=True, text=True, timeout=30,
                env=env)

        # A token file others may read is rejected.
        os.chmod(token_file, 0o644)
        proc = customer()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("may be read or written by group or others", proc.stderr)

        os.chmod(token_file, 0o600)
        proc = customer()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(number, proc.stdout)

        proc = customer(env=None)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("UNAUTHENTICATED", proc.stderr)

        env["ECIF_TOKEN_FILE"] = os.path.join(self.dir, "missing.token")
        proc = customer()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("missing.token", proc.stderr)

        fifo = os.path.join(self.dir, "fifo.token")
        os.mkfifo(fifo, 0o600)
        env["ECIF_TOKEN_FILE"] = fifo
        proc = customer()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is not a regular file", proc.stderr)
        self.stop(server)

    def test_audit_log_reopened_on_sighup(self):
        server, stub = self.start_guarded()
        self.number_of(stub, WANG)
        moved = self.audit + ".1"
        os.rename(self.audit, moved)
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_file(self.audit, server)
        self.number_of(stub, ORTEGA)
        log = self.stop(server)
        self.assertIn("reopened the audit log", log)
        with open(moved, encoding="utf-8") as f:
            self.assertEqual(len(f.read().splitlines()), 1)
        self.assertEqual(len(self.audit_lines()), 1)

    def wait_for_log(self, server, text, count=1):
        """Wait up to 10 s for text to appear count times in the log."""
        deadline = time.monotonic() + 10
        while server.read_log().count(text) < count:
            self.assertLess(time.monotonic(), deadline, server.read_log())
            time.sleep(0.02)

    def test_sighup_reloads_access_file(self):
        server, stub = self.start_guarded()
        number = self.number_of(stub, WANG)

        def get_as_steward():
            return stub.GetCustomer(self.pb.GetCustomerRequest(
                customer_number=number), timeout=10,
                metadata=self.auth("steward"))

        with open(self.access, encoding="utf-8") as f:
            lines = f.read().splitlines()
        with open(self.access, "w", encoding="utf-8") as f:
            f.write("\n".join(l for l in lines if not l.startswith("loans"))
                    + "\n")
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "reloaded the access file: 2 principals")
        with self.assertRaises(grpc.RpcError) as ctx:
            self.number_of(stub, WANG)
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(get_as_steward().customer_number, number)

        # A file that no longer loads leaves the callers in force.
        with open(self.access, "a", encoding="utf-8") as f:
            f.write("broken line\n")
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "the previous callers stay in force")
        self.assertEqual(get_as_steward().customer_number, number)

        # An access file without principals revokes every token.
        with open(self.access, "w", encoding="utf-8") as f:
            f.write("# every token revoked\n")
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "reloaded the access file: 0 principals")
        with self.assertRaises(grpc.RpcError) as ctx:
            get_as_steward()
        self.assertEqual(ctx.exception.code(),
                         grpc.StatusCode.UNAUTHENTICATED)
        self.stop(server)

    def test_open_audit_log_mode_warns(self):
        with open(self.audit, "w", encoding="utf-8"):
            pass
        os.chmod(self.audit, 0o644)
        server, _ = self.start_guarded()
        log = self.stop(server)
        self.assertIn(f"audit log '{self.audit}' is readable or writable by "
                      "group or others", log)

    def test_concurrent_calls_and_reopens(self):
        server, stub = self.start_guarded()
        calls_per_thread, threads = 40, 4
        errors = []

        def caller():
            try:
                for _ in range(calls_per_thread):
                    self.number_of(stub, WANG)
            except grpc.RpcError as exc:
                errors.append(exc)

        workers = [threading.Thread(target=caller) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for i in range(5):
            os.rename(self.audit, f"{self.audit}.{i}")
            server.proc.send_signal(signal.SIGHUP)
            self.wait_for_file(self.audit, server)
        for worker in workers:
            worker.join()
        self.stop(server)
        self.assertEqual(errors, [])
        lines = []
        for name in os.listdir(self.dir):
            if name.startswith("audit.log"):
                with open(os.path.join(self.dir, name),
                          encoding="utf-8") as f:
                    lines += f.read().splitlines()
        self.assertEqual(len(lines), calls_per_thread * threads)
        for line in lines:
            self.assertRegex(line, r"^\S+Z principal=loans method=Resolve "
                                   r"status=OK us=\d+ customers=C\d{12}$")


class AccessStartTest(harness.ServerTestCase):
    RECORDS = [WANG]

    def run_ecifd(self, *args):
        return subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot] + list(args),
            capture_output=True, text=True, timeout=60)

    def write_access(self, text, mode=0o600):
        path = os.path.join(self.dir, f"access-{time.time_ns()}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_open_address_needs_access(self):
        proc = self.run_ecifd("--listen", "0.0.0.0:0")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--listen '0.0.0.0:0' is not a loopback address",
                      proc.stderr)

    def test_bad_access_files_rejected(self):
        digest = "sha256:" + "ab" * 32
        cases = [
            ("principal", f"bad!name resolve {digest}\n",
             "line 1: principal: not 1 to 64 characters"),
            ("no-principal name", f"- resolve {digest}\n",
             "line 1: principal: not 1 to 64 characters"),
            ("swapped columns", f"sha256:{'ab' * 32} resolve loans\n",
             "line 1: principal: not 1 to 64 characters"),
            ("fields", "# callers\nloans resolve\n",
             "line 2: expected 3 fields"),
            ("scope", f"loans resolve,delete {digest}\n",
             "line 1: scopes of 'loans': not a comma-separated list"),
            ("repeated scope", f"loans read,read {digest}\n",
             "line 1: scopes of 'loans': not a comma-separated list"),
            ("digest as scopes", f"loans sha256:{'ab' * 32} x\n",
             "line 1: scopes of 'loans': not a comma-separated list"),
            ("NUL hides a line", f"#\0 evil read {digest}\n",
             "line 1: contains a NUL byte"),
            ("long line", f"# {'x' * 1100}\nloans read {digest}\n",
             "line 1: longer than 1023 bytes"),
            ("digest", "loans resolve sha256:XYZ\n",
             "line 1: token digest of 'loans' is invalid"),
            ("same digest", f"a resolve {digest}\nb read {digest}\n",
             "principals 'a' and 'b' have one token digest"),
            ("same name",
             f"a resolve {digest}\na read sha256:{'cd' * 32}\n",
             "principal 'a' is listed twice"),
        ]
        for label, text, message in cases:
            with self.subTest(label):
                path = self.write_access(text)
                proc = self.run_ecifd("--listen", "127.0.0.1:0",
                                      "--access", path)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertNotIn("ab" * 32, proc.stderr)
                self.assertEqual(proc.stdout, "")

    def test_fifo_access_file_rejected_at_once(self):
        for option in ("--access", "--audit-log"):
            with self.subTest(option=option):
                fifo = os.path.join(self.dir, f"fifo{option}")
                os.mkfifo(fifo, 0o600)
                args = ["--listen", "127.0.0.1:0", option, fifo]
                if option == "--audit-log":
                    args += ["--access", self.write_access(
                        f"loans resolve sha256:{'ab' * 32}\n")]
                proc = self.run_ecifd(*args)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("is not a regular file", proc.stderr)

    def test_access_file_of_other_user_rejected(self):
        if os.geteuid() != 0:
            self.skipTest("changing a file's owner needs root")
        path = self.write_access(f"loans resolve sha256:{'ab' * 32}\n")
        os.chown(path, 65534, -1)
        proc = self.run_ecifd("--listen", "127.0.0.1:0", "--access", path)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("belongs to user 65534", proc.stderr)

    def test_writable_access_file_rejected(self):
        path = self.write_access(f"loans resolve sha256:{'ab' * 32}\n",
                                 mode=0o620)
        proc = self.run_ecifd("--listen", "127.0.0.1:0", "--access", path)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("may be written by group or others (mode 620)",
                      proc.stderr)

    def test_token_rejects_bad_arguments(self):
        for args, message in (
                (["--principal", "a b", "--scopes", "read"],
                 "invalid --principal 'a b'"),
                (["--principal", "ok", "--scopes", "read,all"],
                 "unknown scope 'all'"),
                (["--principal", "ok"], "--principal and --scopes are "
                 "required")):
            with self.subTest(args=args):
                proc = subprocess.run([harness.ECIFCTL, "token"] + args,
                                      capture_output=True, text=True,
                                      timeout=30)
                self.assertEqual(proc.returncode, 2)
                self.assertIn(message, proc.stderr)
                self.assertEqual(proc.stdout, "")
                # stderr is appended to the access file: comments only.
                for line in proc.stderr.splitlines():
                    self.assertTrue(line.startswith("# "), line)


if __name__ == "__main__":
    unittest.main()
