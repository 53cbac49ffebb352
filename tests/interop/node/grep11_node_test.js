#!/usr/bin/env node
// Interop: a Node.js client on @grpc/grpc-js, written the way programs for
// IBM Hyper Protect Crypto Services talk to GREP11, against a real grep11d.
//
//  - the token comes from POST /identity/token?grant_type=...&apikey=...
//    with an empty body (IBM Cloud IAM's API-key grant, as IBM's Node
//    client's examples ask for it);
//  - every call carries `authorization: Bearer <token>` and
//    `bluemix-instance: <id>` from call credentials on a TLS channel;
//  - messages are the old wire generation (old-generation.proto): keys
//    travel as raw bytes, templates as map<uint64, AttributeValue>.
//
// Usage: node grep11_node_test.js DATA_DIR
//   DATA_DIR is a running `grep11d --dev` data directory: grep11d.addr,
//   grep11d.http-addr, tls/ca.pem and dev-apikey are read from it.
// Prints one line per check and then `N passed, M failed`; exits non-zero
// on any failure.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// PKCS #11 numbers (the public standard).
const CKA_TOKEN = 0x1, CKA_ENCRYPT = 0x104, CKA_DECRYPT = 0x105, CKA_WRAP = 0x106,
  CKA_UNWRAP = 0x107, CKA_SIGN = 0x108, CKA_VERIFY = 0x10a, CKA_VALUE_LEN = 0x161,
  CKA_EXTRACTABLE = 0x162, CKA_EC_PARAMS = 0x180;
const CKM_AES_KEY_GEN = 0x1080, CKM_AES_CBC_PAD = 0x1085, CKM_EC_KEY_PAIR_GEN = 0x1040,
  CKM_ECDSA = 0x1041;
const CKR_ARGUMENTS_BAD = 0x7, CKR_SIGNATURE_INVALID = 0xc0;
const RV_NAMES = { 0x7: 'CKR_ARGUMENTS_BAD', 0xc0: 'CKR_SIGNATURE_INVALID' };
// DER of OBJECT IDENTIFIER 1.2.840.10045.3.1.7 (prime256v1 / P-256).
const OID_P256 = Buffer.from('06082a8648ce3d030107', 'hex');

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: grep11_node_test.js DATA_DIR');
  process.exit(2);
}
const readText = (name) => fs.readFileSync(path.join(dataDir, name), 'utf8');
const grpcAddr = readText('grep11d.addr').trim();
const httpAddr = readText('grep11d.http-addr').trim();
const caPem = fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem'));
const apiKey = readText('dev-apikey').split('\n')[0].trim();
const instanceId = crypto.randomUUID();

// ---- the attribute template, as IBM's Node client builds it -------------
// A plain object keyed by the attribute number in decimal, each value an
// AttributeValue with one of AttributeTF (bool), AttributeI (int64) or
// AttributeB (bytes); proto-loader encodes it as map<uint64, AttributeValue>.
function attrValue(v) {
  if (typeof v === 'boolean') return { AttributeTF: v };
  if (typeof v === 'number') return { AttributeI: v };
  if (typeof v === 'string') return { AttributeB: Buffer.from(v) };
  return { AttributeB: v };
}
function template(pairs) {
  const t = {};
  for (const [k, v] of pairs) t[String(k)] = attrValue(v);
  return t;
}

// ---- gRPC plumbing -------------------------------------------------------
const packageDef = protoLoader.loadSync(path.join(__dirname, 'old-generation.proto'), {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
});
const { Crypto } = grpc.loadPackageDefinition(packageDef).grep11;

function authCredentials(token) {
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const md = new grpc.Metadata();
    md.add('authorization', `Bearer ${token}`);
    md.add('bluemix-instance', instanceId);
    callback(null, md);
  });
}

function makeClient(callCreds) {
  let creds = grpc.credentials.createSsl(caPem);
  if (callCreds) creds = grpc.credentials.combineChannelCredentials(creds, callCreds);
  // The dev server certificate names localhost and 127.0.0.1; TLS SNI may
  // not carry an IP address (RFC 6066), so name the host as a client would.
  return new Crypto(grpcAddr, creds, { 'grpc.ssl_target_name_override': 'localhost' });
}

function call(client, method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 20000);
    client[method](request, { deadline }, (err, rsp) => {
      if (err) {
        err.method = method;
        reject(err);
      } else {
        resolve(rsp);
      }
    });
  });
}

// ---- grpc-status-details-bin: google.rpc.Status { details: [Any] } holding
// a grep11.Grep11Error { Code = 1 (uint64), Detail = 2, Retry = 3 }. A
// minimal protobuf reader keeps the test free of further dependencies.
function readVarint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos.i >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.i++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7n;
  }
}
function readFields(buf) {
  const out = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const field = key >>> 3, wire = key & 7;
    if (wire === 0) out.push([field, readVarint(buf, pos)]);
    else if (wire === 2) {
      const n = Number(readVarint(buf, pos));
      if (pos.i + n > buf.length) throw new Error('truncated field');
      out.push([field, buf.subarray(pos.i, pos.i + n)]);
      pos.i += n;
    } else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}
function grep11Error(err) {
  const md = err && err.metadata;
  if (!md) return null;
  for (const raw of md.get('grpc-status-details-bin')) {
    const status = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'base64');
    for (const [f, any] of readFields(status)) {
      if (f !== 3) continue;
      let typeUrl = '', value = Buffer.alloc(0);
      for (const [af, av] of readFields(any)) {
        if (af === 1) typeUrl = av.toString('utf8');
        if (af === 2) value = av;
      }
      if (typeUrl !== 'type.googleapis.com/grep11.Grep11Error') continue;
      const ge = { Code: 0, Detail: '', Retry: false };
      for (const [ef, ev] of readFields(value)) {
        if (ef === 1) ge.Code = Number(ev);
        if (ef === 2) ge.Detail = ev.toString('utf8');
        if (ef === 3) ge.Retry = ev !== 0n;
      }
      return ge;
    }
  }
  return null;
}
function rvName(code) {
  return `${RV_NAMES[code] || 'CKR'} (0x${code.toString(16)})`;
}
function describe(err) {
  const ge = grep11Error(err);
  let s = `${err.method || 'call'} failed: gRPC ${err.code} ${err.details || err.message}`;
  if (ge) {
    s += `; Grep11Error ${rvName(ge.Code)} "${ge.Detail}"`;
    if (ge.Code === CKR_ARGUMENTS_BAD) {
      s += ' -- the server did not take the key from the old-generation raw bytes field';
    }
  }
  return s;
}

// ---- IAM-style token endpoint --------------------------------------------
function httpsPost(urlPath) {
  const [host, port] = [httpAddr.slice(0, httpAddr.lastIndexOf(':')), httpAddr.slice(httpAddr.lastIndexOf(':') + 1)];
  return new Promise((resolve, reject) => {
    const req = https.request({
      method: 'POST', host: host.replace(/^\[|\]$/g, ''), port: Number(port), path: urlPath,
      ca: caPem, servername: 'localhost', timeout: 20000,
      headers: { Accept: 'application/json', 'Content-Length': 0 },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    req.end();
  });
}
function tokenPath(key) {
  const qs = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: key });
  return `/identity/token?${qs.toString()}`;
}

// ---- checks ---------------------------------------------------------------
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function expectGrep11Error(promise, code) {
  try {
    await promise;
  } catch (err) {
    const ge = grep11Error(err);
    assert(ge, `no Grep11Error in grpc-status-details-bin (gRPC ${err.code} ${err.details})`);
    assert(ge.Code === code, `${describe(err)}; wanted ${rvName(code)}`);
    assert(ge.Detail, 'Grep11Error has an empty Detail');
    return ge;
  }
  throw new Error('call succeeded');
}

// An EP11-style public key blob is an SPKI, possibly followed by a MAC:
// take the outer DER SEQUENCE only.
function spkiOf(blob) {
  assert(blob[0] === 0x30, 'public key blob is not a DER SEQUENCE');
  let len = blob[1], hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | blob[2 + i];
    hdr = 2 + n;
  }
  return blob.subarray(0, hdr + len);
}

async function main() {
  let passed = 0, failed = 0;
  const state = {};
  async function check(name, needs, fn) {
    const missing = needs.filter((n) => state[n] === undefined);
    if (missing.length) {
      failed++;
      console.log(`FAIL  ${name}: not run, needs ${missing.join(', ')} from an earlier check`);
      return;
    }
    try {
      await fn();
      passed++;
      console.log(`ok    ${name}`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${name}: ${err.code !== undefined && err.metadata ? describe(err) : (err.stack || err)}`);
    }
  }

  await check('POST /identity/token (query string, empty body) -> 200 Bearer token', [], async () => {
    const rsp = await httpsPost(tokenPath(apiKey));
    assert(rsp.status === 200, `HTTP ${rsp.status}: ${rsp.body}`);
    assert(/^application\/json/.test(rsp.headers['content-type'] || ''), `content-type ${rsp.headers['content-type']}`);
    const data = JSON.parse(rsp.body);
    assert(typeof data.access_token === 'string' && data.access_token.length > 0, 'no access_token');
    assert(data.token_type === 'Bearer', `token_type ${data.token_type}`);
    assert(typeof data.expires_in === 'number' && data.expires_in > 0, `expires_in ${data.expires_in}`);
    assert(typeof data.expiration === 'number' && data.expiration * 1000 > Date.now(),
      `expiration ${data.expiration}`);
    state.token = data.access_token;
  });

  await check('POST /identity/token with a wrong API key -> 400 {errorCode, errorMessage}', [], async () => {
    const rsp = await httpsPost(tokenPath('not-a-key-' + crypto.randomBytes(16).toString('hex')));
    assert(rsp.status === 400, `HTTP ${rsp.status}: ${rsp.body}`);
    const data = JSON.parse(rsp.body);
    assert(typeof data.errorCode === 'string' && data.errorCode, `errorCode ${data.errorCode}`);
    assert(typeof data.errorMessage === 'string' && data.errorMessage, `errorMessage ${data.errorMessage}`);
    assert(data.access_token === undefined, 'an access_token came with the error');
  });

  await check('a call without a token is refused (UNAUTHENTICATED)', [], async () => {
    const bare = makeClient(null);
    try {
      await call(bare, 'GenerateRandom', { Len: 16 });
      throw new Error('GenerateRandom without a token succeeded');
    } catch (err) {
      assert(err.code === grpc.status.UNAUTHENTICATED, `gRPC status ${err.code} (${err.details}), wanted UNAUTHENTICATED`);
    } finally {
      bare.close();
    }
  });

  await check('a call with a forged token is refused (UNAUTHENTICATED)', [], async () => {
    const forged = makeClient(authCredentials('forged.' + crypto.randomBytes(24).toString('base64url')));
    try {
      await call(forged, 'GenerateRandom', { Len: 16 });
      throw new Error('GenerateRandom with a forged token succeeded');
    } catch (err) {
      assert(err.code === grpc.status.UNAUTHENTICATED, `gRPC status ${err.code} (${err.details}), wanted UNAUTHENTICATED`);
    } finally {
      forged.close();
    }
  });

  const client = state.token ? makeClient(authCredentials(state.token)) : null;
  const plain = Buffer.from('grep11 interop from @grpc/grpc-js: ' + 'x'.repeat(61)); // 96 bytes

  await check('GenerateRandom Len=16 (the IV)', ['token'], async () => {
    const rsp = await call(client, 'GenerateRandom', { Len: 16 });
    assert(Buffer.isBuffer(rsp.Rnd) && rsp.Rnd.length === 16, `Rnd is ${rsp.Rnd && rsp.Rnd.length} bytes`);
    const again = await call(client, 'GenerateRandom', { Len: 16 });
    assert(!again.Rnd.equals(rsp.Rnd), 'two random draws are equal');
    state.iv = rsp.Rnd;
  });

  await check('GenerateKey AES-256 (map<uint64, AttributeValue> template) -> KeyBytes = 4', ['token'], async () => {
    const rsp = await call(client, 'GenerateKey', {
      Mech: { Mechanism: CKM_AES_KEY_GEN },
      Template: template([
        [CKA_VALUE_LEN, 32],
        [CKA_WRAP, false],
        [CKA_UNWRAP, false],
        [CKA_ENCRYPT, true],
        [CKA_DECRYPT, true],
        [CKA_EXTRACTABLE, false],
        [CKA_TOKEN, true],
      ]),
    });
    assert(rsp.KeyBytes.length > 32, `KeyBytes is ${rsp.KeyBytes.length} bytes`);
    assert(rsp.CheckSum.length > 0, 'empty CheckSum');
    state.aesKey = rsp.KeyBytes;
  });

  const cbc = () => ({ Mechanism: CKM_AES_CBC_PAD, ParameterB: state.iv });

  await check('EncryptSingle/DecryptSingle AES-CBC-PAD through old Key = 1', ['aesKey', 'iv'], async () => {
    const enc = await call(client, 'EncryptSingle', { Key: state.aesKey, Mech: cbc(), Plain: plain });
    assert(enc.Ciphered.length === plain.length + 16, `Ciphered is ${enc.Ciphered.length} bytes for ${plain.length}`);
    assert(!enc.Ciphered.subarray(0, 16).equals(plain.subarray(0, 16)), 'ciphertext equals plaintext');
    const dec = await call(client, 'DecryptSingle', { Key: state.aesKey, Mech: cbc(), Ciphered: enc.Ciphered });
    assert(dec.Plain.equals(plain), 'DecryptSingle did not give back the plaintext');
    state.singleCiphered = enc.Ciphered;
  });

  await check('EncryptInit (old Key = 3)/EncryptUpdate x2/EncryptFinal (= EncryptSingle)', ['aesKey', 'iv'], async () => {
    const init = await call(client, 'EncryptInit', { Mech: cbc(), Key: state.aesKey });
    assert(init.State.length > 0, 'empty State');
    const u1 = await call(client, 'EncryptUpdate', { State: init.State, Plain: plain.subarray(0, 20) });
    const u2 = await call(client, 'EncryptUpdate', { State: u1.State, Plain: plain.subarray(20) });
    const fin = await call(client, 'EncryptFinal', { State: u2.State });
    const ciphered = Buffer.concat([u1.Ciphered, u2.Ciphered, fin.Ciphered]);
    assert(ciphered.length === plain.length + 16, `Ciphered is ${ciphered.length} bytes for ${plain.length}`);
    if (state.singleCiphered) {
      assert(ciphered.equals(state.singleCiphered), 'multi-part ciphertext differs from EncryptSingle\'s');
    }
    state.multiCiphered = ciphered;
  });

  await check('DecryptInit (old Key = 3)/DecryptUpdate x2/DecryptFinal', ['aesKey', 'iv', 'multiCiphered'], async () => {
    const c = state.multiCiphered;
    const init = await call(client, 'DecryptInit', { Mech: cbc(), Key: state.aesKey });
    const u1 = await call(client, 'DecryptUpdate', { State: init.State, Ciphered: c.subarray(0, 16) });
    const u2 = await call(client, 'DecryptUpdate', { State: u1.State, Ciphered: c.subarray(16) });
    const fin = await call(client, 'DecryptFinal', { State: u2.State });
    assert(Buffer.concat([u1.Plain, u2.Plain, fin.Plain]).equals(plain), 'multi-part decryption differs');
  });

  await check('GenerateKeyPair EC P-256 -> PrivKeyBytes = 5, PubKeyBytes = 6 (an SPKI)', ['token'], async () => {
    const rsp = await call(client, 'GenerateKeyPair', {
      Mech: { Mechanism: CKM_EC_KEY_PAIR_GEN },
      PubKeyTemplate: template([
        [CKA_EC_PARAMS, OID_P256],
        [CKA_VERIFY, true],
        [CKA_EXTRACTABLE, false],
      ]),
      PrivKeyTemplate: template([
        [CKA_SIGN, true],
        [CKA_EXTRACTABLE, false],
      ]),
    });
    assert(rsp.PrivKeyBytes.length > 0, 'empty PrivKeyBytes');
    assert(rsp.PubKeyBytes.length > 0, 'empty PubKeyBytes');
    const pub = crypto.createPublicKey({ key: spkiOf(rsp.PubKeyBytes), format: 'der', type: 'spki' });
    assert(pub.asymmetricKeyType === 'ec', `public key type ${pub.asymmetricKeyType}`);
    assert(pub.asymmetricKeyDetails.namedCurve === 'prime256v1', `curve ${pub.asymmetricKeyDetails.namedCurve}`);
    state.ecPriv = rsp.PrivKeyBytes;
    state.ecPub = rsp.PubKeyBytes;
    state.ecNodeKey = pub;
  });

  const digest = crypto.createHash('sha256').update('This data needs to be signed').digest();

  await check('SignSingle CKM_ECDSA over a SHA-256 digest through old PrivKey = 1', ['ecPriv'], async () => {
    const rsp = await call(client, 'SignSingle', { PrivKey: state.ecPriv, Mech: { Mechanism: CKM_ECDSA }, Data: digest });
    assert(rsp.Signature.length === 64, `Signature is ${rsp.Signature.length} bytes (wanted raw r||s)`);
    state.signature = rsp.Signature;
  });

  await check('VerifySingle through old PubKey = 1 -> OK; Node\'s crypto agrees', ['ecPub', 'signature'], async () => {
    await call(client, 'VerifySingle', { PubKey: state.ecPub, Mech: { Mechanism: CKM_ECDSA }, Data: digest, Signature: state.signature });
    // CKM_ECDSA signed the digest as given: that is ECDSA-with-SHA-256 of
    // the message, which Node checks against the SPKI on its own.
    const ok = crypto.verify('sha256', Buffer.from('This data needs to be signed'),
      { key: state.ecNodeKey, dsaEncoding: 'ieee-p1363' }, state.signature);
    assert(ok, 'Node\'s crypto.verify refuses the signature');
  });

  await check('VerifySingle with a tampered signature -> CKR_SIGNATURE_INVALID (0xc0)', ['ecPub', 'signature'], async () => {
    const bad = Buffer.from(state.signature);
    bad[10] ^= 0x01;
    await expectGrep11Error(call(client, 'VerifySingle', { PubKey: state.ecPub, Mech: { Mechanism: CKM_ECDSA }, Data: digest, Signature: bad }),
      CKR_SIGNATURE_INVALID);
  });

  await check('SignInit (old PrivKey = 3)/Sign, VerifyInit (old PubKey = 3)/Verify', ['ecPriv', 'ecPub'], async () => {
    const si = await call(client, 'SignInit', { Mech: { Mechanism: CKM_ECDSA }, PrivKey: state.ecPriv });
    const sig = await call(client, 'Sign', { State: si.State, Data: digest });
    assert(sig.Signature.length === 64, `Signature is ${sig.Signature.length} bytes`);
    const vi = await call(client, 'VerifyInit', { Mech: { Mechanism: CKM_ECDSA }, PubKey: state.ecPub });
    await call(client, 'Verify', { State: vi.State, Data: digest, Signature: sig.Signature });
    const vi2 = await call(client, 'VerifyInit', { Mech: { Mechanism: CKM_ECDSA }, PubKey: state.ecPub });
    const bad = Buffer.from(sig.Signature);
    bad[40] ^= 0x80;
    await expectGrep11Error(call(client, 'Verify', { State: vi2.State, Data: digest, Signature: bad }), CKR_SIGNATURE_INVALID);
  });

  await check('WrapKey (old Key = 1, KeK = 2) / UnwrapKey (old KeK = 2) -> UnwrappedBytes = 7 decrypts', ['token', 'iv'], async () => {
    const kek = await call(client, 'GenerateKey', {
      Mech: { Mechanism: CKM_AES_KEY_GEN },
      Template: template([[CKA_VALUE_LEN, 32], [CKA_WRAP, true], [CKA_UNWRAP, true], [CKA_EXTRACTABLE, false]]),
    });
    const key = await call(client, 'GenerateKey', {
      Mech: { Mechanism: CKM_AES_KEY_GEN },
      Template: template([[CKA_VALUE_LEN, 16], [CKA_ENCRYPT, true], [CKA_DECRYPT, true], [CKA_EXTRACTABLE, true]]),
    });
    const wrapped = await call(client, 'WrapKey', { Key: key.KeyBytes, KeK: kek.KeyBytes, Mech: cbc() });
    assert(wrapped.Wrapped.length === 32, `Wrapped is ${wrapped.Wrapped.length} bytes`);
    const unwrapped = await call(client, 'UnwrapKey', {
      Wrapped: wrapped.Wrapped, KeK: kek.KeyBytes, Mech: cbc(),
      Template: template([[0x0, 4], [0x100, 0x1f], [CKA_VALUE_LEN, 16], [CKA_ENCRYPT, true], [CKA_DECRYPT, true], [CKA_EXTRACTABLE, false]]),
    });
    assert(unwrapped.UnwrappedBytes.length > 0, 'empty UnwrappedBytes');
    assert(unwrapped.CheckSum.length > 0 && key.CheckSum.length > 0, 'empty CheckSum');
    const enc = await call(client, 'EncryptSingle', { Key: key.KeyBytes, Mech: cbc(), Plain: plain });
    const dec = await call(client, 'DecryptSingle', { Key: unwrapped.UnwrappedBytes, Mech: cbc(), Ciphered: enc.Ciphered });
    assert(dec.Plain.equals(plain), 'the unwrapped key does not decrypt what the original encrypted');
  });

  if (client) client.close();
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((rc) => { process.exitCode = rc; }, (err) => {
  console.log(`FAIL  ${err.stack || err}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
