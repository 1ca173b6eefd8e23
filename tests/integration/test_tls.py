"""Integration tests of TLS in ecifd and its clients (rpc/TLS.md).

Each test makes its own certificate authorities and certificates with the
openssl command, starts ecifd with --tls-cert and --tls-key (and
--tls-client-ca for client certificates), and calls it with Python's
grpcio and with ecifctl over loopback.
"""

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WANG = {
    "source_system": "CORE", "source_id": "1", "name": "Wang Fang",
    "id_type": "PASSPORT", "id_number": "E55501234",
    "phone": "+86 139 5550 1234", "dob": "1983-04-05", "gender": "F",
}

# Name in the server certificates; the tests dial 127.0.0.1 and check the
# certificate against this name unless the certificate also names the IP.
SERVER_NAME = "ecif.test"


def openssl(*args):
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is missing; run "
                           "tools/install-deps.sh")
    subprocess.run(["openssl"] + list(args), check=True,
                   capture_output=True, timeout=60)


class Pki:
    """Certificate authorities and certificates in one directory."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def authority(self, name):
        """Make a self-signed CA; return the path of its certificate."""
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.path(f"{name}.key"),
                "-out", self.path(f"{name}.pem"),
                "-days", "2", "-subj", f"/CN={name}")
        return self.path(f"{name}.pem")

    def issue(self, ca, name, san, days=2):
        """Make a key and a certificate for subjectAltName san, signed by
        CA ca, valid for days; return (certificate path, key path). The key
        is mode 600."""
        key, csr = self.path(f"{name}.key"), self.path(f"{name}.csr")
        ext = self.path(f"{name}.ext")
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", csr, "-subj", f"/CN={name}")
        with open(ext, "w", encoding="ascii") as f:
            f.write(f"subjectAltName={san}\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.path(f"{ca}.pem"),
                "-CAkey", self.path(f"{ca}.key"), "-set_serial",
                str(time.time_ns() % 1000000007), "-out",
                self.path(f"{name}.pem"), "-days", str(days), "-extfile", ext)
        os.chmod(key, 0o600)
        return self.path(f"{name}.pem"), key

    def dated(self, ca, name, san, start, end):
        """Make a key and a certificate valid from start to end
        (YYYYMMDDHHMMSSZ), signed by CA ca, with openssl ca; return
        (certificate path, key path)."""
        key, csr = self.path(f"{name}.key"), self.path(f"{name}.csr")
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", csr, "-subj", f"/CN={name}", "-addext",
                f"subjectAltName={san}")
        db = self.path(f"{name}.db")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w", encoding="ascii") as f:
            f.write("1000\n")
        config = os.path.join(db, "ca.cnf")
        with open(config, "w", encoding="ascii") as f:
            f.write(f"[ca]\ndefault_ca = dated\n[dated]\n"
                    f"database = {db}/index.txt\nnew_certs_dir = {db}\n"
                    f"serial = {db}/serial\ndefault_md = sha256\n"
                    f"policy = any\ncopy_extensions = copy\n"
                    f"unique_subject = no\n[any]\ncommonName = supplied\n")
        openssl("ca", "-batch", "-config", config, "-cert",
                self.path(f"{ca}.pem"), "-keyfile", self.path(f"{ca}.key"),
                "-in", csr, "-out", self.path(f"{name}.pem"), "-notext",
                "-startdate", start, "-enddate", end)
        os.chmod(key, 0o600)
        return self.path(f"{name}.pem"), key


def read(path):
    with open(path, "rb") as f:
        return f.read()


def credentials(ca, cert=None, key=None):
    return grpc.ssl_channel_credentials(
        root_certificates=read(ca),
        private_key=read(key) if key else None,
        certificate_chain=read(cert) if cert else None)


class TlsTest(harness.ServerTestCase):
    RECORDS = [WANG]

    def setUp(self):
        super().setUp()
        self.pki = Pki(self.subdir("pki"))
        self.ca = self.pki.authority("server-ca")
        self.cert, self.key = self.pki.issue(
            "server-ca", "server", f"DNS:{SERVER_NAME},IP:127.0.0.1")

    def tls_args(self, cert=None, key=None, client_ca=None):
        args = ["--tls-cert", cert or self.cert, "--tls-key", key or self.key]
        if client_ca:
            args += ["--tls-client-ca", client_ca]
        return args

    def check(self, address, creds=None):
        """Health/Check over a new channel, TLS with creds or plain
        without; return the status code."""
        channel = (grpc.secure_channel(address, creds) if creds is not None
                   else grpc.insecure_channel(address))
        with channel:
            check = harness.health_check_method(channel, self.health_pb2)
            try:
                check(self.health_pb2.HealthCheckRequest(), timeout=10)
                return grpc.StatusCode.OK
            except grpc.RpcError as e:
                return e.code()

    def ecifctl(self, server, env_extra, *args):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ECIF_TLS_")}
        env.update(env_extra)
        return subprocess.run(
            [harness.ECIFCTL] + list(args[:1]) + ["--server", server.address]
            + list(args[1:]), capture_output=True, text=True, timeout=60,
            env=env)

    def wait_for_log(self, server, text, count=1):
        deadline = time.monotonic() + 20
        while server.read_log().count(text) < count:
            self.assertLess(time.monotonic(), deadline,
                            f"no {text!r} in the log:\n{server.read_log()}")
            time.sleep(0.05)

    def test_resolve_over_tls(self):
        server, stub = self.start(
            extra_args=self.tls_args() + ["--metrics-listen", "127.0.0.1:0"],
            credentials=credentials(self.ca))
        reply = self.resolve(stub, WANG)
        self.assertEqual(reply.candidates[0].verdict, self.pb.MATCH)
        self.assertIn("TLS on, with certificate", server.read_log())

        # The metrics carry the certificate's notAfter, as openssl reads it.
        port = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/",
                         server.read_log()).group(1)
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            metrics = reply.read().decode()
        expiry = re.search(r"^ecif_tls_certificate_expiry_seconds (\d+)$",
                           metrics, re.M)
        self.assertIsNotNone(expiry, metrics)
        end = subprocess.run(
            ["openssl", "x509", "-in", self.cert, "-noout", "-enddate"],
            capture_output=True, text=True, check=True).stdout.strip()
        not_after = datetime.datetime.strptime(
            end.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z").replace(
                tzinfo=datetime.timezone.utc)
        self.assertEqual(int(expiry.group(1)), int(not_after.timestamp()))

        # Plain HTTP/2 and a client trusting another CA fail to connect.
        self.assertEqual(self.check(server.address),
                         grpc.StatusCode.UNAVAILABLE)
        other = self.pki.authority("other-ca")
        self.assertEqual(self.check(server.address, credentials(other)),
                         grpc.StatusCode.UNAVAILABLE)
        log = self.stop(server)
        for secret in (read(self.key).decode().split("\n")[1][:20],
                       "PRIVATE KEY"):
            self.assertNotIn(secret, log)

    def test_ecifctl_over_tls(self):
        # A certificate without the IP: the client must name the server.
        cert, key = self.pki.issue("server-ca", "named",
                                   f"DNS:{SERVER_NAME}")
        server, _ = self.start(
            extra_args=self.tls_args(cert, key),
            credentials=credentials(self.ca),
            channel_options=[("grpc.ssl_target_name_override", SERVER_NAME)])
        tls = {"ECIF_TLS_CA": self.ca, "ECIF_TLS_SERVER_NAME": SERVER_NAME}
        proc = self.ecifctl(server, tls, "resolve", "--name", "Wang Fang",
                            "--id-number", "E55501234", "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("MATCH", proc.stdout)

        proc = self.ecifctl(server, {"ECIF_TLS_CA": self.ca}, "health")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ECIF_TLS_SERVER_NAME", proc.stderr)

        proc = self.ecifctl(server, {}, "health")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("UNAVAILABLE", proc.stderr)
        self.assertIn("If it serves TLS, set ECIF_TLS_CA", proc.stderr)
        self.stop(server)

    def test_failed_handshakes_logged_within_limit(self):
        server, _ = self.start(extra_args=self.tls_args(),
                               credentials=credentials(self.ca))
        host, port = server.address.rsplit(":", 1)
        started = time.monotonic()
        for _ in range(300):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(100)
        seconds = time.monotonic() - started
        log = self.stop(server)
        grpc_lines = [line for line in log.splitlines() if " gRPC: " in line]
        self.assertGreater(len(grpc_lines), 0, log)
        self.assertLessEqual(len(grpc_lines), 20 * (int(seconds) + 2))
        self.assertIn("gRPC log lines were not logged (more than 20 a "
                      "second)", log)

    def test_client_certificates_required(self):
        client_ca = self.pki.authority("client-ca")
        client_cert, client_key = self.pki.issue("client-ca", "steward",
                                                 "DNS:steward")
        stranger_ca = self.pki.authority("stranger-ca")
        stranger_cert, stranger_key = self.pki.issue(
            "stranger-ca", "stranger", "DNS:stranger")
        good = credentials(self.ca, client_cert, client_key)
        server, stub = self.start(
            extra_args=self.tls_args(client_ca=client_ca), credentials=good)
        self.assertEqual(self.resolve(stub, WANG).candidates[0].verdict,
                         self.pb.MATCH)
        self.assertIn("clients must present a certificate",
                      server.read_log())

        self.assertEqual(self.check(server.address, credentials(self.ca)),
                         grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(
            self.check(server.address,
                       credentials(self.ca, stranger_cert, stranger_key)),
            grpc.StatusCode.UNAVAILABLE)
        # A server certificate of the right CA is no client certificate
        # of the client CA.
        self.assertEqual(
            self.check(server.address,
                       credentials(self.ca, self.cert, self.key)),
            grpc.StatusCode.UNAVAILABLE)

        tls = {"ECIF_TLS_CA": self.ca, "ECIF_TLS_CERT": client_cert,
               "ECIF_TLS_KEY": client_key}
        proc = self.ecifctl(server, tls, "health")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("SERVING", proc.stdout)
        proc = self.ecifctl(server, {"ECIF_TLS_CA": self.ca}, "health")
        self.assertNotEqual(proc.returncode, 0)
        self.stop(server)

    def test_sighup_rotates_certificate(self):
        live_cert = os.path.join(self.dir, "live.pem")
        live_key = os.path.join(self.dir, "live.key")
        shutil.copy(self.cert, live_cert)
        shutil.copy(self.key, live_key)
        os.chmod(live_key, 0o600)
        server, _ = self.start(extra_args=self.tls_args(live_cert, live_key),
                               credentials=credentials(self.ca))

        new_ca = self.pki.authority("new-ca")
        new_cert, new_key = self.pki.issue("new-ca", "renewed",
                                           f"DNS:{SERVER_NAME},IP:127.0.0.1")
        shutil.copy(new_cert, live_cert)
        shutil.copy(new_key, live_key)
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "reloaded the TLS certificate")
        self.assertEqual(self.check(server.address, credentials(new_ca)),
                         grpc.StatusCode.OK)
        self.assertEqual(self.check(server.address, credentials(self.ca)),
                         grpc.StatusCode.UNAVAILABLE)

        # A key of another certificate is rejected, and so is a key that
        # group and others may read; the renewed pair stays in force.
        shutil.copy(self.key, live_key)
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "the previous TLS certificate stays in "
                          "force")
        self.assertIn("the key does not belong to the certificate",
                      server.read_log())
        shutil.copy(new_key, live_key)
        os.chmod(live_key, 0o644)
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "the previous TLS certificate stays in "
                          "force", 2)
        self.assertIn(f"--tls-key '{live_key}' may be read or written by "
                      "group or others", server.read_log())
        # A chain cut short while it is being written is rejected too.
        os.chmod(live_key, 0o600)
        with open(live_cert, "wb") as f:
            f.write(read(new_cert)[:300])
        server.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(server, "the previous TLS certificate stays in "
                          "force", 3)
        self.assertIn(f"--tls-cert '{live_cert}' ends inside a block",
                      server.read_log())
        self.assertEqual(self.check(server.address, credentials(new_ca)),
                         grpc.StatusCode.OK)
        self.stop(server)


class TlsStartTest(harness.ServerTestCase):
    RECORDS = [WANG]

    def setUp(self):
        super().setUp()
        self.pki = Pki(self.subdir("pki"))
        self.pki.authority("ca")
        self.cert, self.key = self.pki.issue("ca", "server",
                                             "IP:127.0.0.1")
        self.access = os.path.join(self.dir, "access")
        with open(self.access, "w", encoding="ascii") as f:
            f.write("# nobody\n")
        os.chmod(self.access, 0o600)

    def run_ecifd(self, *args, listen="127.0.0.1:0"):
        return subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot, "--listen", listen]
            + list(args), capture_output=True, text=True, timeout=60)

    def start_and_stop(self, *args):
        """Run ecifd until it listens, stop it, and return its log."""
        log_path = os.path.join(self.dir, f"ecifd-{time.time_ns()}.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
                 "127.0.0.1:0"] + list(args),
                stdout=subprocess.PIPE, stderr=log, text=True)
            line = proc.stdout.readline()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            proc.stdout.close()
        self.assertTrue(line.startswith("ecifd: serving on"), line)
        with open(log_path, encoding="utf-8") as f:
            return f.read()

    def test_certificate_dates_logged(self):
        san = "IP:127.0.0.1"
        long_cert, long_key = self.pki.issue("ca", "long", san, days=400)
        expired = self.pki.dated("ca", "expired", san, "20200101000000Z",
                                 "20200201000000Z")
        future = self.pki.dated("ca", "future", san, "20990101000000Z",
                                "21000101000000Z")
        old = self.pki.dated("ca", "old", san, "19600101000000Z",
                             "20300101000000Z")
        cases = [
            ((long_cert, long_key), "INFO  the TLS certificate is valid from"),
            ((self.cert, self.key), "WARN  the TLS certificate expires at"),
            (expired, "WARN  the TLS certificate expired at "
                      "2020-02-01T00:00:00Z"),
            (future, "WARN  the TLS certificate is not valid before "
                     "2099-01-01T00:00:00Z"),
            (old, "INFO  the TLS certificate is valid from "
                  "1960-01-01T00:00:00Z to 2030-01-01T00:00:00Z"),
        ]
        for (cert, key), message in cases:
            with self.subTest(message=message):
                log = self.start_and_stop("--tls-cert", cert, "--tls-key",
                                          key)
                self.assertIn(message, log)

    def test_option_combinations_rejected(self):
        cases = [
            (["--tls-cert", self.cert], "only --tls-cert was given"),
            (["--tls-key", self.key], "only --tls-key was given"),
            (["--tls-client-ca", self.cert],
             "--tls-client-ca needs --tls-cert and --tls-key"),
            (["--tls-cert", self.cert, "--tls-key", self.key,
              "--allow-plaintext"], "exclude each other"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                proc = self.run_ecifd(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(message, proc.stderr)

    def test_open_address_needs_tls(self):
        proc = self.run_ecifd("--access", self.access, listen="0.0.0.0:0")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("without TLS the bearer tokens and customer records "
                      "would cross the network in clear text",
                      proc.stderr)

    def test_bad_files_rejected(self):
        open_key = os.path.join(self.dir, "open.key")
        shutil.copy(self.key, open_key)
        os.chmod(open_key, 0o640)
        other_cert, other_key = self.pki.issue("ca", "other",
                                               "IP:127.0.0.1")
        encrypted = os.path.join(self.dir, "encrypted.key")
        openssl("pkey", "-in", self.key, "-out", encrypted, "-aes256",
                "-passout", "pass:secret")
        os.chmod(encrypted, 0o600)
        writable_cert = os.path.join(self.dir, "writable.pem")
        shutil.copy(self.cert, writable_cert)
        os.chmod(writable_cert, 0o666)
        fifo = os.path.join(self.dir, "fifo.key")
        os.mkfifo(fifo, 0o600)
        missing = os.path.join(self.dir, "missing.pem")
        # A chain cut short while a renewal was writing it.
        chain_text = read(self.cert) + read(self.pki.path("ca.pem"))
        cut = os.path.join(self.dir, "cut.pem")
        with open(cut, "wb") as f:
            f.write(chain_text[:len(chain_text) - 100])
        garbled = os.path.join(self.dir, "garbled.pem")
        with open(garbled, "wb") as f:
            lines = read(self.cert).split(b"\n")
            lines[2] = b"!" + lines[2][1:]
            f.write(b"\n".join(lines))
        plain = os.path.join(self.dir, "plain.pem")
        with open(plain, "w", encoding="ascii") as f:
            f.write("not a certificate\n")
        open_folder = os.path.join(self.dir, "open-folder")
        os.mkdir(open_folder)
        os.chmod(open_folder, 0o777)
        in_open_folder = shutil.copy(self.cert, open_folder)

        cases = [
            (self.cert, open_key,
             f"--tls-key '{open_key}' may be read or written by group or "
             "others"),
            (self.cert, other_key,
             f"the TLS library refused --tls-cert '{self.cert}' with "
             f"--tls-key '{other_key}'"),
            (self.cert, encrypted,
             f"--tls-key '{encrypted}' contains an encrypted key"),
            (writable_cert, self.key,
             f"--tls-cert '{writable_cert}' may be written by group or "
             "others"),
            (self.key, self.key,
             f"--tls-cert '{self.key}' contains a private key"),
            (plain, self.key,
             f"--tls-cert '{plain}' contains no PEM block 'BEGIN "
             "CERTIFICATE'"),
            (cut, self.key,
             f"--tls-cert '{cut}' ends inside a block, without its END "
             "line"),
            (garbled, self.key,
             f"--tls-cert '{garbled}' has a line in a block that is not "
             "base64"),
            (in_open_folder, self.key,
             f"the folder '{open_folder}' of --tls-cert '{in_open_folder}' "
             "may be written by group or others"),
            (self.cert, fifo, f"--tls-key '{fifo}' is not a regular file"),
            (missing, self.key, f"--tls-cert '{missing}' cannot be opened"),
        ]
        if os.geteuid() == 0:
            foreign = os.path.join(self.dir, "foreign.pem")
            shutil.copy(self.cert, foreign)
            os.chown(foreign, 65534, 65534)
            cases.append((foreign, self.key,
                          f"--tls-cert '{foreign}' belongs to a user other "
                          "than this process's or root"))
        for cert, key, message in cases:
            with self.subTest(message=message):
                proc = self.run_ecifd("--tls-cert", cert, "--tls-key", key)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertNotIn("PRIVATE KEY-----", proc.stderr)

    def test_client_settings_checked(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ECIF_TLS_")}
        open_key = os.path.join(self.dir, "client-open.key")
        shutil.copy(self.key, open_key)
        os.chmod(open_key, 0o644)
        cases = [
            ({"ECIF_TLS_CERT": self.cert},
             "ECIF_TLS_CERT is set but ECIF_TLS_CA is not"),
            ({"ECIF_TLS_SERVER_NAME": "ecif.test"},
             "ECIF_TLS_SERVER_NAME is set but ECIF_TLS_CA is not"),
            ({"ECIF_TLS_CA": self.pki.path("ca.pem"),
              "ECIF_TLS_CERT": self.cert},
             "ECIF_TLS_CERT and ECIF_TLS_KEY come together"),
            ({"ECIF_TLS_CA": self.key},
             f"ECIF_TLS_CA '{self.key}' contains a private key"),
            ({"ECIF_TLS_CA": ""}, "ECIF_TLS_CA is set but empty"),
            ({"ECIF_TLS_CA": self.pki.path("ca.pem"),
              "ECIF_TLS_CERT": self.cert, "ECIF_TLS_KEY": open_key},
             f"ECIF_TLS_KEY '{open_key}' may be read or written by group"),
            ({"ECIF_TLS_CA": self.pki.path("ca.pem"),
              "ECIF_TLS_SERVER_NAME": "bad name"},
             "ECIF_TLS_SERVER_NAME 'bad name' contains a space"),
        ]
        for extra, message in cases:
            with self.subTest(message=message):
                proc = subprocess.run(
                    [harness.ECIFCTL, "health", "--server", "127.0.0.1:1"],
                    capture_output=True, text=True, timeout=60,
                    env=dict(env, **extra))
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(message, proc.stderr)


if __name__ == "__main__":
    unittest.main()
