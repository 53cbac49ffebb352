#!/usr/bin/python3
"""Wire-contract interop: an independent gRPC stack (Debian's python3-grpcio)
calls grep11d with stubs generated at test time from our .proto files.

Usage: grpc_python_test.py GREP11D PROTO_DIR
Prints 'N passed, M failed' and exits non-zero on any failure."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

GREP11D, PROTO_DIR = sys.argv[1], sys.argv[2]
CKR_ARGUMENTS_BAD = 0x7
CKR_MECHANISM_INVALID = 0x70
CKR_FUNCTION_NOT_SUPPORTED = 0x54


def generate_stubs(out):
    from grpc_tools import protoc
    os.makedirs(out, exist_ok=True)
    for proto in ("server.proto", "errors.proto", "status.proto", "auth.proto"):
        rc = protoc.main(["protoc", "-I" + PROTO_DIR, "--python_out=" + out,
                          "--grpc_python_out=" + out, os.path.join(PROTO_DIR, proto)])
        if rc != 0:
            raise RuntimeError("protoc failed for " + proto)
    sys.path.insert(0, out)


def start_server(data_dir):
    log = open(os.path.join(data_dir, "server.log"), "w")
    proc = subprocess.Popen([GREP11D, "--dev", "--data-dir", data_dir, "--listen", "127.0.0.1:0"],
                            stdout=log, stderr=subprocess.STDOUT)
    addr_file = os.path.join(data_dir, "grep11d.addr")
    for _ in range(1500):
        if os.path.exists(addr_file):
            with open(addr_file) as f:
                addr = f.read().strip()
            if addr:
                return proc, addr
        if proc.poll() is not None:
            raise RuntimeError("grep11d exited early")
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("grep11d did not start")


def grep11_error(err):
    """The Grep11Error inside a failed call's grpc-status-details-bin."""
    import errors_pb2
    import status_pb2
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            st = status_pb2.Status()
            st.ParseFromString(value)
            for any_msg in st.details:
                if any_msg.type_url == "type.googleapis.com/grep11.Grep11Error":
                    ge = errors_pb2.Grep11Error()
                    ge.ParseFromString(any_msg.value)
                    return ge
    return None


def main():
    import grpc
    tmp = tempfile.mkdtemp(prefix="grep11-interop-")
    passed = failed = 0
    proc = None
    try:
        generate_stubs(os.path.join(tmp, "stubs"))
        import server_pb2 as pb
        import server_pb2_grpc as pb_grpc
        data_dir = os.path.join(tmp, "data")
        os.mkdir(data_dir)
        proc, addr = start_server(data_dir)
        with open(os.path.join(data_dir, "tls", "ca.pem"), "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        import auth_pb2
        import auth_pb2_grpc
        with open(os.path.join(data_dir, "dev-apikey")) as f:
            api_key = f.read().strip()
        plain_channel = grpc.secure_channel(addr, creds)
        token = auth_pb2_grpc.AuthStub(plain_channel).Token(
            auth_pb2.TokenRequest(ApiKey=api_key), timeout=20).Token
        plain_channel.close()
        # The token rides in call credentials, as any gRPC client would send it.
        creds = grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(token))
        channel = grpc.secure_channel(addr, creds)
        crypto = pb_grpc.CryptoStub(channel)

        def check_random():
            rsp = crypto.GenerateRandom(pb.GenerateRandomRequest(Len=32), timeout=20)
            assert len(rsp.Rnd) == 32, len(rsp.Rnd)

        def check_mechanism_list():
            rsp = crypto.GetMechanismList(pb.GetMechanismListRequest(), timeout=20)
            for mech in rsp.Mechs:
                info = crypto.GetMechanismInfo(pb.GetMechanismInfoRequest(Mech=mech), timeout=20)
                assert info.MechInfo.Flags & 0x1, "CKF_HW missing for 0x%x" % mech

        def expect_error(call, code, grpc_code=None):
            try:
                call()
            except grpc.RpcError as err:
                ge = grep11_error(err)
                assert ge is not None, "no Grep11Error in trailers"
                assert ge.Code == code, "Code 0x%x, wanted 0x%x" % (ge.Code, code)
                assert ge.Detail, "empty Detail"
                if grpc_code is not None:
                    assert err.code() == grpc_code, err.code()
                return
            raise AssertionError("call succeeded")

        def check_bad_length():
            expect_error(lambda: crypto.GenerateRandom(pb.GenerateRandomRequest(Len=0), timeout=20),
                         CKR_ARGUMENTS_BAD, grpc.StatusCode.INVALID_ARGUMENT)

        def check_unsupported():
            expect_error(lambda: crypto.Login(pb.LoginRequest(Pin=b"1234"), timeout=20),
                         CKR_FUNCTION_NOT_SUPPORTED, grpc.StatusCode.UNIMPLEMENTED)

        def check_unknown_mechanism():
            expect_error(lambda: crypto.GetMechanismInfo(
                pb.GetMechanismInfoRequest(Mech=0x7ffffffe), timeout=20), CKR_MECHANISM_INVALID)

        for name, fn in [("GenerateRandom", check_random),
                         ("GetMechanismList+Info", check_mechanism_list),
                         ("GenerateRandom Len=0 -> CKR_ARGUMENTS_BAD", check_bad_length),
                         ("Login -> CKR_FUNCTION_NOT_SUPPORTED", check_unsupported),
                         ("unknown mechanism -> CKR_MECHANISM_INVALID", check_unknown_mechanism)]:
            try:
                fn()
                passed += 1
                print("ok    " + name)
            except Exception:
                failed += 1
                print("FAIL  " + name)
                traceback.print_exc()
        channel.close()
    except Exception:
        failed += 1
        traceback.print_exc()
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -1
            if rc != 0:
                failed += 1
                print("FAIL  grep11d exit status %d" % rc)
        if failed == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept " + tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
