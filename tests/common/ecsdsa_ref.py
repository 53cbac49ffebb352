#!/usr/bin/env python3
"""EC-Schnorr (IBM's CKM_IBM_ECDSA_OTHER variants) in plain Python integers.

An implementation that shares nothing with the engine (no OpenSSL, no C),
written from the scheme definitions, so the tests can check the engine's
signatures against it and feed it signatures the engine did not make:

  variant 3 (ECSG_IBM_ECSDSA_S256, BSI TR-03111 / ISO/IEC 14888-3 EC-SDSA):
    Q = kG, r = SHA-256(x_Q || y_Q || M), s = (k + OS2I(r) d) mod n
  variant 5 (ECSG_IBM_ECSDSA_COMPR_MULTI, the Zilliqa scheme):
    Q = kG, r = SHA-256(comp(Q) || comp(P) || M) mod n, s = (k - r d) mod n

Usage (all values hex; exit status 0 = yes, 1 = no, 2 = usage):
  ecsdsa_ref.py verify CURVE VARIANT PUB MSG SIG   PUB uncompressed (04 || x || y)
  ecsdsa_ref.py sign CURVE VARIANT D K MSG          prints r || s
  ecsdsa_ref.py pub CURVE D                         prints the uncompressed point
  ecsdsa_ref.py kat FILE                            known answers (tests/vectors/ecsdsa)
Not constant time: test use only.
"""
import hashlib
import json
import sys

CURVES = {
    "P-256": dict(
        p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
        a=-3,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
        n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "secp256k1": dict(
        p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F,
        a=0,
        b=7,
        gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
        gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
        n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141),
    "brainpoolP256r1": dict(
        p=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
        a=0x7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9,
        b=0x26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6,
        gx=0x8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262,
        gy=0x547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997,
        n=0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7),
}


class Curve:
    def __init__(self, name):
        c = CURVES[name]
        self.p, self.a, self.b, self.n = c["p"], c["a"] % c["p"], c["b"], c["n"]
        self.g = (c["gx"], c["gy"])

    def on_curve(self, pt):
        x, y = pt
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def add(self, p1, p2):
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        (x1, y1), (x2, y2) = p1, p2
        if x1 == x2 and (y1 + y2) % self.p == 0:
            return None
        if p1 == p2:
            lam = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p)
        else:
            lam = (y2 - y1) * pow(x2 - x1, -1, self.p)
        lam %= self.p
        x3 = (lam * lam - x1 - x2) % self.p
        return (x3, (lam * (x1 - x3) - y1) % self.p)

    def mul(self, k, pt):
        acc = None
        while k:
            if k & 1:
                acc = self.add(acc, pt)
            pt = self.add(pt, pt)
            k >>= 1
        return acc

    @staticmethod
    def comp(pt):
        x, y = pt
        return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")

    @staticmethod
    def raw(pt):
        return pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


def challenge(c, variant, q, pub, msg):
    """(r bytes, e) of commitment q."""
    if variant == 3:
        h = hashlib.sha256(c.raw(q) + msg).digest()
        return h, int.from_bytes(h, "big") % c.n
    e = int.from_bytes(hashlib.sha256(c.comp(q) + c.comp(pub) + msg).digest(), "big") % c.n
    return e.to_bytes(32, "big"), e


def sign(c, variant, d, k, msg):
    pub = c.mul(d, c.g)
    r, e = challenge(c, variant, c.mul(k, c.g), pub, msg)
    if e == 0:
        raise ValueError("e = 0: choose another k")
    s = (k + e * d) % c.n if variant == 3 else (k - e * d) % c.n
    if s == 0:
        raise ValueError("s = 0: choose another k")
    return r + s.to_bytes(32, "big")


def verify(c, variant, pub, msg, sig):
    if len(sig) != 64 or not c.on_curve(pub):
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not 0 < s < c.n or (variant == 5 and r >= c.n) or r % c.n == 0:
        return False
    e = r % c.n
    coef = (c.n - e) if variant == 3 else e  # sG - eP, or sG + rP
    q = c.add(c.mul(s, c.g), c.mul(coef, pub))
    if q is None:
        return False
    return challenge(c, variant, q, pub, msg)[0] == sig[:32]


def parse_pub(c, b):
    if len(b) != 65 or b[0] != 4:
        raise ValueError("uncompressed point expected")
    return (int.from_bytes(b[1:33], "big"), int.from_bytes(b[33:], "big"))


def kat(path):
    """Every vector: the signature with the given k, and it verifies."""
    vecs = json.load(open(path))["vectors"]
    for v in vecs:
        c = Curve(v["curve"])
        d, k = int(v["d"], 16), int(v["k"], 16)
        msg = bytes.fromhex(v["msg"])
        want = bytes.fromhex(v["r"] + v["s"])
        if "pub" in v and c.comp(c.mul(d, c.g)) != bytes.fromhex(v["pub"]):
            print("pub mismatch:", v["source"])
            return 1
        got = sign(c, v["variant"], d, k, msg)
        if got != want or not verify(c, v["variant"], c.mul(d, c.g), msg, got):
            print("mismatch:", v["source"], got.hex())
            return 1
    print("%d vectors" % len(vecs))
    return 0 if vecs else 1


def main(a):
    if len(a) == 2 and a[0] == "kat":
        return kat(a[1])
    if len(a) == 3 and a[0] == "pub":
        c = Curve(a[1])
        q = c.mul(int(a[2], 16), c.g)
        print("04" + c.raw(q).hex())
        return 0
    if len(a) == 6 and a[0] == "sign":
        c = Curve(a[1])
        print(sign(c, int(a[2]), int(a[3], 16), int(a[4], 16), bytes.fromhex(a[5])).hex())
        return 0
    if len(a) == 6 and a[0] == "verify":
        c = Curve(a[1])
        pub = parse_pub(c, bytes.fromhex(a[3]))
        return 0 if verify(c, int(a[2]), pub, bytes.fromhex(a[4]), bytes.fromhex(a[5])) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
