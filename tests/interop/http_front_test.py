#!/usr/bin/python3
"""The HTTPS front from outside: IAM-style POST /identity/token in both of
the shapes IBM's clients use (form body: Go; query string with an empty
body: Node), every error path of it, /healthz and /readyz, and a token from
it used on grep11.Crypto through Debian's python3-grpcio.

Usage: http_front_test.py GREP11D PROTO_DIR
Prints 'N passed, M failed' and exits non-zero on any failure."""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

GREP11D, PROTO_DIR = sys.argv[1], sys.argv[2]
GRANT = "urn:ibm:params:oauth:grant-type:apikey"


def wait_file(path, proc):
    for _ in range(1500):
        if os.path.exists(path):
            with open(path) as f:
                v = f.read().strip()
            if v:
                return v
        if proc.poll() is not None:
            raise RuntimeError("grep11d exited early")
        time.sleep(0.02)
    raise RuntimeError("grep11d did not write " + path)


class Server:
    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="grep11-http-")
        self.log = os.path.join(self.dir, "server.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [GREP11D, "--dev", "--data-dir", self.dir, "--listen", "127.0.0.1:0",
                 "--http-listen", "127.0.0.1:0", *extra], stdout=log, stderr=subprocess.STDOUT)
        self.grpc_addr = wait_file(os.path.join(self.dir, "grep11d.addr"), self.proc)
        self.http_addr = wait_file(os.path.join(self.dir, "grep11d.http-addr"), self.proc)
        self.ca = os.path.join(self.dir, "tls", "ca.pem")
        with open(self.log) as f:
            self.startup_log = f.read()  # --dev prints its API key once, here
        with open(os.path.join(self.dir, "dev-apikey")) as f:
            self.apikey = f.readline().strip()

    def request(self, method, path, body=None, headers=None):
        host, port = self.http_addr.rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
        finally:
            c.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        with open(self.log) as f:
            log = f.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc, log


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_form(s, apikey, grant=GRANT):
    body = "grant_type=" + grant + "&apikey=" + apikey
    return s.request("POST", "/identity/token", body=body, headers=FORM)


def token_query(s, apikey, grant=GRANT):
    q = urllib.parse.urlencode({"grant_type": grant, "apikey": apikey})
    return s.request("POST", "/identity/token?" + q, body=b"")


def check_token(status, headers, data):
    assert status == 200, (status, data)
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    t = json.loads(data)
    assert t["token_type"] == "Bearer"
    assert t["access_token"].startswith("g11t")
    # IBM's Go client renews expires_in - 60 s after it got the token.
    assert t["expires_in"] > 60, t
    assert abs(t["expiration"] - (time.time() + t["expires_in"])) < 5, t
    assert "refresh_token" not in t
    return t["access_token"]


def iam_error(status, headers, data, want_status):
    assert status == want_status, (status, data)
    e = json.loads(data)
    assert set(e) == {"errorCode", "errorMessage"}, e
    assert e["errorCode"] and e["errorMessage"]
    return e


def test_form_body_grant(s):
    check_token(*token_form(s, s.apikey))


def test_query_string_grant(s):
    check_token(*token_query(s, s.apikey))


def test_token_works_on_grpc(s):
    import grpc
    stubs(s)
    import server_pb2
    import server_pb2_grpc
    token = check_token(*token_query(s, s.apikey))
    with open(s.ca, "rb") as f:
        creds = grpc.ssl_channel_credentials(f.read())
    with grpc.secure_channel(s.grpc_addr, creds) as ch:
        stub = server_pb2_grpc.CryptoStub(ch)
        md = [("authorization", "Bearer " + token), ("bluemix-instance", "any-instance")]
        r = stub.GenerateRandom(server_pb2.GenerateRandomRequest(Len=16), metadata=md, timeout=10)
        assert len(r.Rnd) == 16
        try:
            stub.GenerateRandom(server_pb2.GenerateRandomRequest(Len=16),
                                metadata=[("authorization", "Bearer " + token[:-2] + "xx")],
                                timeout=10)
            raise AssertionError("a damaged token was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e.code()


def test_missing_parameters(s):
    iam_error(*s.request("POST", "/identity/token", body=b""), 400)
    iam_error(*s.request("POST", "/identity/token", body="grant_type=" + GRANT, headers=FORM), 400)
    iam_error(*s.request("POST", "/identity/token?apikey=" + s.apikey, body=b""), 400)
    iam_error(*token_form(s, ""), 400)


def test_unsupported_grant(s):
    e = iam_error(*token_form(s, s.apikey, grant="password"), 400)
    assert "grant_type" in e["errorMessage"]


def test_wrong_content_type(s):
    body = "grant_type=" + GRANT + "&apikey=" + s.apikey
    iam_error(*s.request("POST", "/identity/token", body=body,
                         headers={"Content-Type": "application/json"}), 400)


def test_wrong_method_and_path(s):
    iam_error(*s.request("GET", "/identity/token?grant_type=%s&apikey=%s" % (GRANT, s.apikey)), 405)
    iam_error(*s.request("GET", "/nothing-here"), 404)


def test_body_too_large(s):
    body = "grant_type=" + GRANT + "&apikey=" + "A" * 20000
    iam_error(*s.request("POST", "/identity/token", body=body, headers=FORM), 413)


def test_health(s):
    st, h, data = s.request("GET", "/healthz")
    assert st == 200 and json.loads(data)["status"] == "alive"
    st, h, data = s.request("GET", "/readyz")
    assert st == 200 and json.loads(data)["status"] == "ready", data


def test_plaintext_is_refused(s):
    host, port = s.http_addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        ok = r.status == 200
    except (http.client.HTTPException, OSError):
        ok = False
    finally:
        c.close()
    assert not ok, "the TLS front answered plaintext HTTP"


def test_wrong_key_then_rate_limited(s):
    for _ in range(10):
        iam_error(*token_form(s, "g11k_AAAAAAAAAAAAAAAAAAAAAA.BBBB"), 400)
    st, h, data = token_form(s, s.apikey)
    e = iam_error(st, h, data, 429)
    assert int(h["retry-after"]) > 0, h
    assert e["errorCode"]


def stubs(s):
    out = os.path.join(s.dir, "stubs")
    from grpc_tools import protoc
    os.makedirs(out, exist_ok=True)
    for proto in ("server.proto", "errors.proto", "status.proto"):
        assert protoc.main(["protoc", "-I" + PROTO_DIR, "--python_out=" + out,
                            "--grpc_python_out=" + out, os.path.join(PROTO_DIR, proto)]) == 0
    sys.path.insert(0, out)


def test_configured_instance_only():
    """With instance_id set, a call naming another bluemix-instance is
    refused; one naming this instance, or none, is served."""
    import grpc
    cfg_dir = tempfile.mkdtemp(prefix="grep11-inst-")
    cfg = os.path.join(cfg_dir, "grep11d.yaml")
    with open(cfg, "w") as f:
        f.write("instance_id: 7f3a1c2e-0000-4000-8000-000000000001\n")
    s = Server(extra=("--config", cfg))
    try:
        stubs(s)
        import server_pb2
        import server_pb2_grpc
        token = check_token(*token_form(s, s.apikey))
        with open(s.ca, "rb") as f:
            creds = grpc.ssl_channel_credentials(f.read())
        with grpc.secure_channel(s.grpc_addr, creds) as ch:
            stub = server_pb2_grpc.CryptoStub(ch)
            auth = ("authorization", "Bearer " + token)
            req = server_pb2.GenerateRandomRequest(Len=8)
            stub.GenerateRandom(req, metadata=[auth], timeout=10)
            stub.GenerateRandom(req, metadata=[auth, ("bluemix-instance",
                                                      "7f3a1c2e-0000-4000-8000-000000000001")],
                                timeout=10)
            try:
                stub.GenerateRandom(req, metadata=[auth, ("bluemix-instance", "another")],
                                    timeout=10)
                raise AssertionError("another instance's call was served")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.PERMISSION_DENIED, e.code()
                assert "instance" in e.details()
    finally:
        s.stop()
        shutil.rmtree(cfg_dir, ignore_errors=True)


def main():
    passed = failed = 0
    s = Server()
    tests = [test_form_body_grant, test_query_string_grant, test_token_works_on_grpc,
             test_missing_parameters, test_unsupported_grant, test_wrong_content_type,
             test_wrong_method_and_path, test_body_too_large, test_health,
             test_plaintext_is_refused,
             test_wrong_key_then_rate_limited]  # last: it leaves this client limited
    try:
        for t in tests:
            try:
                t(s)
                print("ok   " + t.__name__)
                passed += 1
            except Exception:
                print("FAIL " + t.__name__)
                traceback.print_exc()
                failed += 1
    finally:
        rc, log = s.stop()
    # No API key (nor its secret) reaches the log after the start banner.
    secret = s.apikey.split(".", 1)[1]
    if rc != 0 or log.count(secret) != s.startup_log.count(secret):
        print("FAIL clean stop without secrets in the log (rc=%d)" % rc)
        failed += 1
    else:
        print("ok   clean stop without secrets in the log")
        passed += 1
    try:
        test_configured_instance_only()
        print("ok   test_configured_instance_only")
        passed += 1
    except Exception:
        print("FAIL test_configured_instance_only")
        traceback.print_exc()
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
