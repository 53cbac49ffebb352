// grep11-go-interop: a GREP11 client written in Go against the public
// contract only (the Crypto service of proto/server.proto, the Grep11Error
// detail of proto/errors.proto and IBM Cloud IAM's API-key grant), built on
// Debian's grpc-go and protobuf-go. It is configured the way IBM's Go
// examples are, by environment variables alone:
//
//	GREP11_ADDRESS      host:port of the gRPC (TLS) endpoint
//	GREP11_APIKEY       API key, exchanged for a bearer token
//	GREP11_IAMENDPOINT  https://host:port serving POST /identity/token
//	SSL_CERT_FILE       CA file; crypto/x509 adds it to the system pool
//
// Every check prints "ok" or "FAIL"; the last line is "N passed, M failed"
// and the exit status is non-zero when anything failed.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "grep11interop/pb"
)

// PKCS#11 / EP11 constants used here (values from the PKCS#11 standard).
const (
	ckaPrivate        = 0x002
	ckaSensitive      = 0x103
	ckaEncrypt        = 0x104
	ckaDecrypt        = 0x105
	ckaSign           = 0x108
	ckaVerify         = 0x10a
	ckaModulusBits    = 0x121
	ckaPublicExponent = 0x122
	ckaValueLen       = 0x161
	ckaECParams       = 0x180

	ckmRSAPKCSKeyPairGen = 0x0000
	ckmSHA256RSAPKCS     = 0x0040
	ckmECKeyPairGen      = 0x1040
	ckmECDSA             = 0x1041
	ckmAESKeyGen         = 0x1080
	ckmAESCBCPad         = 0x1085

	ckrSignatureInvalid = 0x0c0

	grep11ErrorTypeURL = "type.googleapis.com/grep11.Grep11Error"
	callTimeout        = 60 * time.Second
)

var oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}

// ---- IAM-style bearer tokens as gRPC per-RPC credentials ------------------

// iamCredentials exchanges an API key at <endpoint>/identity/token for a
// bearer token and sends it as "authorization: Bearer ..." on every call,
// fetching a new one 60 s before expires_in runs out.
type iamCredentials struct {
	apiKey   string
	endpoint string
	client   *http.Client

	mu      sync.Mutex
	token   string
	renewAt time.Time
	fetches int
}

type iamToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Expiration  int64  `json:"expiration"`
}

type iamError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// requestToken performs the API-key grant and returns the HTTP status and body.
func requestToken(ctx context.Context, client *http.Client, endpoint, apiKey string) (int, http.Header, []byte, error) {
	// The body is built by hand, as IAM clients do: the key is sent as is.
	body := "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=" + apiKey
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/identity/token", strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	rsp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	return rsp.StatusCode, rsp.Header, data, err
}

func (c *iamCredentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" || !time.Now().Before(c.renewAt) {
		code, _, data, err := requestToken(ctx, c.client, c.endpoint, c.apiKey)
		if err != nil {
			return nil, fmt.Errorf("token request: %w", err)
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("token request: HTTP %d: %s", code, data)
		}
		var t iamToken
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("token response: %w", err)
		}
		if t.AccessToken == "" {
			return nil, errors.New("token response without access_token")
		}
		c.token = t.AccessToken
		c.renewAt = time.Now().Add(time.Duration(t.ExpiresIn-60) * time.Second)
		c.fetches++
	}
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}

func (c *iamCredentials) RequireTransportSecurity() bool { return true }

// expire makes the next call fetch a new token.
func (c *iamCredentials) expire() {
	c.mu.Lock()
	c.renewAt = time.Now().Add(-time.Second)
	c.mu.Unlock()
}

func (c *iamCredentials) fetchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

// staticToken sends a fixed authorization value (for the refusal checks).
type staticToken string

func (s staticToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": string(s)}, nil
}
func (staticToken) RequireTransportSecurity() bool { return true }

// ---- helpers ----------------------------------------------------------------

// attrs encodes a template the way GREP11 clients do: booleans as
// AttributeTF, integers as AttributeI, byte strings as AttributeB.
func attrs(m map[uint64]interface{}) map[uint64]*pb.AttributeValue {
	out := make(map[uint64]*pb.AttributeValue, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case bool:
			out[k] = &pb.AttributeValue{OneAttr: &pb.AttributeValue_AttributeTF{AttributeTF: x}}
		case int:
			out[k] = &pb.AttributeValue{OneAttr: &pb.AttributeValue_AttributeI{AttributeI: int64(x)}}
		case []byte:
			out[k] = &pb.AttributeValue{OneAttr: &pb.AttributeValue_AttributeB{AttributeB: x}}
		default:
			panic(fmt.Sprintf("attribute 0x%x: unsupported type %T", k, v))
		}
	}
	return out
}

func mech(m uint64, param []byte) *pb.Mechanism {
	if param == nil {
		return &pb.Mechanism{Mechanism: m}
	}
	return &pb.Mechanism{Mechanism: m, Parameter: &pb.Mechanism_ParameterB{ParameterB: param}}
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// grep11Error decodes the Grep11Error detail of a failed call: the
// google.rpc.Status of grpc-status-details-bin must carry exactly one Any
// of type grep11.Grep11Error.
func grep11Error(err error) (*pb.Grep11Error, *status.Status, error) {
	st, ok := status.FromError(err)
	if !ok {
		return nil, nil, fmt.Errorf("not a gRPC status error: %v", err)
	}
	details := st.Proto().GetDetails()
	if len(details) != 1 {
		return nil, st, fmt.Errorf("status %v carries %d details, want 1", st.Code(), len(details))
	}
	if details[0].GetTypeUrl() != grep11ErrorTypeURL {
		return nil, st, fmt.Errorf("detail type %q, want %q", details[0].GetTypeUrl(), grep11ErrorTypeURL)
	}
	ge := &pb.Grep11Error{}
	if err := proto.Unmarshal(details[0].GetValue(), ge); err != nil {
		return nil, st, fmt.Errorf("decoding Grep11Error: %v", err)
	}
	// The generic path (status.Details, resolved through the registry of
	// generated types) must give the same message.
	typed := st.Details()
	if len(typed) != 1 {
		return nil, st, fmt.Errorf("status.Details: %d entries", len(typed))
	}
	if g, ok := typed[0].(*pb.Grep11Error); !ok || !proto.Equal(g, ge) {
		return nil, st, fmt.Errorf("status.Details gave %T %v", typed[0], typed[0])
	}
	return ge, st, nil
}

// spki returns the leading DER element of a GREP11 public key blob (the
// SubjectPublicKeyInfo, which a MAC trailer follows).
func spki(blob []byte) ([]byte, error) {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(blob, &raw); err != nil {
		return nil, fmt.Errorf("public key is not DER: %v", err)
	}
	return raw.FullBytes, nil
}

func publicKey(rsp *pb.GenerateKeyPairResponse) (interface{}, error) {
	blob := rsp.GetPubKeyBytes()
	if k := rsp.GetPubKey(); k != nil && len(k.GetKeyBlobs()) > 0 {
		if len(blob) > 0 && !bytes.Equal(blob, k.GetKeyBlobs()[0]) {
			return nil, errors.New("PubKeyBytes differs from PubKey.KeyBlobs[0]")
		}
		blob = k.GetKeyBlobs()[0]
	}
	der, err := spki(blob)
	if err != nil {
		return nil, err
	}
	return x509.ParsePKIXPublicKey(der)
}

func hasKeyBlob(k *pb.KeyBlob) bool {
	return k != nil && len(k.GetKeyBlobs()) > 0 && len(k.GetKeyBlobs()[0]) > 0
}

// ---- the checks ---------------------------------------------------------------

type suite struct {
	crypto   pb.CryptoClient
	creds    *iamCredentials
	address  string
	endpoint string
	apiKey   string
	http     *http.Client

	aesKey *pb.KeyBlob
	ecPair *pb.GenerateKeyPairResponse
	ecSig  []byte
	digest []byte
	passed int
	failed int
}

// run runs one check; ready false means a check it builds on failed.
func (s *suite) run(name string, ready bool, fn func() error) {
	if !ready {
		s.failed++
		fmt.Printf("FAIL  %s: a check it builds on failed\n", name)
		return
	}
	if err := fn(); err != nil {
		s.failed++
		fmt.Printf("FAIL  %s: %v\n", name, err)
		return
	}
	s.passed++
	fmt.Printf("ok    %s\n", name)
}

func (s *suite) tokenEndpoint() error {
	ctx, cancel := callCtx()
	defer cancel()
	code, hdr, data, err := requestToken(ctx, s.http, s.endpoint, s.apiKey)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", code, data)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var t iamToken
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("%v: %s", err, data)
	}
	if t.AccessToken == "" || t.TokenType != "Bearer" {
		return fmt.Errorf("access_token %q token_type %q", t.AccessToken, t.TokenType)
	}
	if t.ExpiresIn <= 60 {
		return fmt.Errorf("expires_in %d leaves no time before renewal", t.ExpiresIn)
	}
	if d := t.Expiration - (time.Now().Unix() + t.ExpiresIn); d < -5 || d > 5 {
		return fmt.Errorf("expiration %d is not now + expires_in %d", t.Expiration, t.ExpiresIn)
	}
	return nil
}

func (s *suite) wrongAPIKey() error {
	ctx, cancel := callCtx()
	defer cancel()
	code, hdr, data, err := requestToken(ctx, s.http, s.endpoint, "not-a-valid-api-key")
	if err != nil {
		return err
	}
	if code != http.StatusBadRequest {
		return fmt.Errorf("HTTP %d, want 400: %s", code, data)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var e iamError
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("%v: %s", err, data)
	}
	if e.ErrorCode == "" || e.ErrorMessage == "" {
		return fmt.Errorf("errorCode/errorMessage missing: %s", data)
	}
	return nil
}

func (s *suite) refusedWithout(auth credentials.PerRPCCredentials) error {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{}))}
	if auth != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(auth))
	}
	conn, err := grpc.Dial(s.address, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := callCtx()
	defer cancel()
	_, err = pb.NewCryptoClient(conn).GenerateRandom(ctx, &pb.GenerateRandomRequest{Len: 16})
	if err == nil {
		return errors.New("the call succeeded")
	}
	if c := status.Code(err); c != codes.Unauthenticated && c != codes.PermissionDenied {
		return fmt.Errorf("refused with %v, want Unauthenticated: %v", c, err)
	}
	return nil
}

func (s *suite) mechanismList() error {
	ctx, cancel := callCtx()
	defer cancel()
	rsp, err := s.crypto.GetMechanismList(ctx, &pb.GetMechanismListRequest{})
	if err != nil {
		return err
	}
	have := map[uint64]bool{}
	for _, m := range rsp.GetMechs() {
		have[m] = true
	}
	for _, m := range []uint64{ckmRSAPKCSKeyPairGen, ckmSHA256RSAPKCS, ckmECKeyPairGen, ckmECDSA, ckmAESKeyGen, ckmAESCBCPad} {
		if !have[m] {
			return fmt.Errorf("mechanism 0x%x missing from %d listed", m, len(rsp.GetMechs()))
		}
	}
	return nil
}

func (s *suite) random() error {
	ctx, cancel := callCtx()
	defer cancel()
	a, err := s.crypto.GenerateRandom(ctx, &pb.GenerateRandomRequest{Len: 32})
	if err != nil {
		return err
	}
	b, err := s.crypto.GenerateRandom(ctx, &pb.GenerateRandomRequest{Len: 32})
	if err != nil {
		return err
	}
	if len(a.GetRnd()) != 32 || len(b.GetRnd()) != 32 {
		return fmt.Errorf("got %d and %d bytes, want 32", len(a.GetRnd()), len(b.GetRnd()))
	}
	if bytes.Equal(a.GetRnd(), b.GetRnd()) {
		return errors.New("two calls returned the same bytes")
	}
	return nil
}

func (s *suite) generateAES() error {
	ctx, cancel := callCtx()
	defer cancel()
	rsp, err := s.crypto.GenerateKey(ctx, &pb.GenerateKeyRequest{
		Mech: mech(ckmAESKeyGen, nil),
		Template: attrs(map[uint64]interface{}{
			ckaValueLen: 32,
			ckaEncrypt:  true,
			ckaDecrypt:  true,
		}),
	})
	if err != nil {
		return err
	}
	if !hasKeyBlob(rsp.GetKey()) {
		return errors.New("no key blob in GenerateKeyResponse.Key")
	}
	if len(rsp.GetKeyBytes()) > 0 && !bytes.Equal(rsp.GetKeyBytes(), rsp.GetKey().GetKeyBlobs()[0]) {
		return errors.New("KeyBytes differs from Key.KeyBlobs[0]")
	}
	if len(rsp.GetCheckSum()) == 0 {
		return errors.New("empty CheckSum")
	}
	s.aesKey = rsp.GetKey()
	return nil
}

func (s *suite) iv() ([]byte, error) {
	ctx, cancel := callCtx()
	defer cancel()
	rsp, err := s.crypto.GenerateRandom(ctx, &pb.GenerateRandomRequest{Len: 16})
	if err != nil {
		return nil, err
	}
	return rsp.GetRnd(), nil
}

var message = []byte("GREP11 interop from Go: a message that spans several AES blocks.")

func (s *suite) aesSingle() error {
	iv, err := s.iv()
	if err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	enc, err := s.crypto.EncryptSingle(ctx, &pb.EncryptSingleRequest{Mech: mech(ckmAESCBCPad, iv), Key: s.aesKey, Plain: message})
	if err != nil {
		return fmt.Errorf("EncryptSingle: %v", err)
	}
	want := (len(message)/16 + 1) * 16
	if len(enc.GetCiphered()) != want {
		return fmt.Errorf("ciphertext %d bytes, want %d", len(enc.GetCiphered()), want)
	}
	dec, err := s.crypto.DecryptSingle(ctx, &pb.DecryptSingleRequest{Mech: mech(ckmAESCBCPad, iv), Key: s.aesKey, Ciphered: enc.GetCiphered()})
	if err != nil {
		return fmt.Errorf("DecryptSingle: %v", err)
	}
	if !bytes.Equal(dec.GetPlain(), message) {
		return fmt.Errorf("decrypted %q", dec.GetPlain())
	}
	return nil
}

func (s *suite) aesMultiPart() error {
	iv, err := s.iv()
	if err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	init, err := s.crypto.EncryptInit(ctx, &pb.EncryptInitRequest{Mech: mech(ckmAESCBCPad, iv), Key: s.aesKey})
	if err != nil {
		return fmt.Errorf("EncryptInit: %v", err)
	}
	state := init.GetState()
	var cipher []byte
	// Uneven chunks: one inside a block, one across blocks, the rest.
	for _, part := range [][]byte{message[:5], message[5:30], message[30:]} {
		up, err := s.crypto.EncryptUpdate(ctx, &pb.EncryptUpdateRequest{State: state, Plain: part})
		if err != nil {
			return fmt.Errorf("EncryptUpdate: %v", err)
		}
		state = up.GetState()
		cipher = append(cipher, up.GetCiphered()...)
	}
	fin, err := s.crypto.EncryptFinal(ctx, &pb.EncryptFinalRequest{State: state})
	if err != nil {
		return fmt.Errorf("EncryptFinal: %v", err)
	}
	cipher = append(cipher, fin.GetCiphered()...)

	single, err := s.crypto.EncryptSingle(ctx, &pb.EncryptSingleRequest{Mech: mech(ckmAESCBCPad, iv), Key: s.aesKey, Plain: message})
	if err != nil {
		return fmt.Errorf("EncryptSingle: %v", err)
	}
	if !bytes.Equal(cipher, single.GetCiphered()) {
		return errors.New("multi-part ciphertext differs from EncryptSingle's under the same key and IV")
	}
	dec, err := s.crypto.DecryptSingle(ctx, &pb.DecryptSingleRequest{Mech: mech(ckmAESCBCPad, iv), Key: s.aesKey, Ciphered: cipher})
	if err != nil {
		return fmt.Errorf("DecryptSingle: %v", err)
	}
	if !bytes.Equal(dec.GetPlain(), message) {
		return fmt.Errorf("decrypted %q", dec.GetPlain())
	}
	return nil
}

func (s *suite) generateEC() error {
	params, err := asn1.Marshal(oidP256)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	rsp, err := s.crypto.GenerateKeyPair(ctx, &pb.GenerateKeyPairRequest{
		Mech:           mech(ckmECKeyPairGen, nil),
		PubKeyTemplate: attrs(map[uint64]interface{}{ckaECParams: params, ckaVerify: true}),
		PrivKeyTemplate: attrs(map[uint64]interface{}{
			ckaSign: true, ckaPrivate: true, ckaSensitive: true,
		}),
	})
	if err != nil {
		return err
	}
	if !hasKeyBlob(rsp.GetPrivKey()) || !hasKeyBlob(rsp.GetPubKey()) {
		return errors.New("key blobs missing from GenerateKeyPairResponse")
	}
	s.ecPair = rsp
	return nil
}

func (s *suite) ecSign() error {
	sum := sha256.Sum256(message)
	s.digest = sum[:]
	ctx, cancel := callCtx()
	defer cancel()
	rsp, err := s.crypto.SignSingle(ctx, &pb.SignSingleRequest{Mech: mech(ckmECDSA, nil), PrivKey: s.ecPair.GetPrivKey(), Data: s.digest})
	if err != nil {
		return err
	}
	if len(rsp.GetSignature()) != 64 {
		return fmt.Errorf("signature %d bytes, want 64 (r || s)", len(rsp.GetSignature()))
	}
	s.ecSig = rsp.GetSignature()
	return nil
}

func (s *suite) ecVerifyServer() error {
	ctx, cancel := callCtx()
	defer cancel()
	_, err := s.crypto.VerifySingle(ctx, &pb.VerifySingleRequest{
		Mech: mech(ckmECDSA, nil), PubKey: s.ecPair.GetPubKey(), Data: s.digest, Signature: s.ecSig,
	})
	return err
}

func (s *suite) ecVerifyTampered() error {
	bad := append([]byte(nil), s.ecSig...)
	bad[len(bad)-1] ^= 0x01
	ctx, cancel := callCtx()
	defer cancel()
	_, err := s.crypto.VerifySingle(ctx, &pb.VerifySingleRequest{
		Mech: mech(ckmECDSA, nil), PubKey: s.ecPair.GetPubKey(), Data: s.digest, Signature: bad,
	})
	if err == nil {
		return errors.New("a tampered signature verified")
	}
	ge, st, derr := grep11Error(err)
	if derr != nil {
		return fmt.Errorf("%v (call error: %v)", derr, err)
	}
	if st.Code() == codes.OK {
		return errors.New("error status carries code OK")
	}
	if ge.GetCode() != ckrSignatureInvalid {
		return fmt.Errorf("Grep11Error.Code 0x%x, want CKR_SIGNATURE_INVALID (0xc0); Detail %q", ge.GetCode(), ge.GetDetail())
	}
	if ge.GetDetail() == "" {
		return errors.New("empty Grep11Error.Detail")
	}
	fmt.Printf("      (gRPC %v, Grep11Error{Code: 0x%x, Detail: %q, Retry: %v})\n", st.Code(), ge.GetCode(), ge.GetDetail(), ge.GetRetry())
	return nil
}

func (s *suite) ecVerifyLocal() error {
	key, err := publicKey(s.ecPair)
	if err != nil {
		return err
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("public key is %T, want *ecdsa.PublicKey", key)
	}
	if pub.Curve != elliptic.P256() {
		return fmt.Errorf("curve %s, want P-256", pub.Curve.Params().Name)
	}
	r := new(big.Int).SetBytes(s.ecSig[:32])
	sv := new(big.Int).SetBytes(s.ecSig[32:])
	if !ecdsa.Verify(pub, s.digest, r, sv) {
		return errors.New("crypto/ecdsa rejects the signature")
	}
	return nil
}

func (s *suite) rsaSignVerify() error {
	ctx, cancel := callCtx()
	defer cancel()
	pair, err := s.crypto.GenerateKeyPair(ctx, &pb.GenerateKeyPairRequest{
		Mech: mech(ckmRSAPKCSKeyPairGen, nil),
		PubKeyTemplate: attrs(map[uint64]interface{}{
			ckaVerify: true, ckaModulusBits: 2048, ckaPublicExponent: 65537,
		}),
		PrivKeyTemplate: attrs(map[uint64]interface{}{
			ckaSign: true, ckaPrivate: true, ckaSensitive: true,
		}),
	})
	if err != nil {
		return fmt.Errorf("GenerateKeyPair: %v", err)
	}
	sig, err := s.crypto.SignSingle(ctx, &pb.SignSingleRequest{Mech: mech(ckmSHA256RSAPKCS, nil), PrivKey: pair.GetPrivKey(), Data: message})
	if err != nil {
		return fmt.Errorf("SignSingle: %v", err)
	}
	key, err := publicKey(pair)
	if err != nil {
		return err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("public key is %T, want *rsa.PublicKey", key)
	}
	if pub.N.BitLen() != 2048 || pub.E != 65537 {
		return fmt.Errorf("modulus %d bits, exponent %d", pub.N.BitLen(), pub.E)
	}
	sum := sha256.Sum256(message)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig.GetSignature()); err != nil {
		return fmt.Errorf("crypto/rsa: %v", err)
	}
	if _, err := s.crypto.VerifySingle(ctx, &pb.VerifySingleRequest{
		Mech: mech(ckmSHA256RSAPKCS, nil), PubKey: pair.GetPubKey(), Data: message, Signature: sig.GetSignature(),
	}); err != nil {
		return fmt.Errorf("VerifySingle: %v", err)
	}
	return nil
}

func (s *suite) tokenReuseAndRenewal() error {
	if n := s.creds.fetchCount(); n != 1 {
		return fmt.Errorf("%d token requests so far, want 1 (the token is reused until renewal)", n)
	}
	s.creds.expire()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := s.crypto.GenerateRandom(ctx, &pb.GenerateRandomRequest{Len: 8}); err != nil {
		return fmt.Errorf("call after renewal: %v", err)
	}
	if n := s.creds.fetchCount(); n != 2 {
		return fmt.Errorf("%d token requests after expiry, want 2", n)
	}
	return nil
}

func main() {
	env := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			fmt.Printf("FAIL  environment variable %s is not set\n0 passed, 1 failed\n", name)
			os.Exit(1)
		}
		return v
	}
	s := &suite{
		address:  env("GREP11_ADDRESS"),
		apiKey:   env("GREP11_APIKEY"),
		endpoint: strings.TrimRight(env("GREP11_IAMENDPOINT"), "/"),
		// Default transport and TLS settings: the system pool (with
		// SSL_CERT_FILE) verifies both the HTTPS front and the gRPC server.
		http: &http.Client{Timeout: callTimeout},
	}
	s.creds = &iamCredentials{apiKey: s.apiKey, endpoint: s.endpoint, client: s.http}
	conn, err := grpc.Dial(s.address,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{})),
		grpc.WithPerRPCCredentials(s.creds))
	if err != nil {
		fmt.Printf("FAIL  dial %s: %v\n0 passed, 1 failed\n", s.address, err)
		os.Exit(1)
	}
	defer conn.Close()
	s.crypto = pb.NewCryptoClient(conn)

	s.run("POST /identity/token (API-key grant) -> Bearer token JSON", true, s.tokenEndpoint)
	s.run("wrong API key -> HTTP 400 {errorCode, errorMessage}", true, s.wrongAPIKey)
	s.run("GetMechanismList lists the mechanisms used here", true, s.mechanismList)
	s.run("GenerateRandom 32 bytes", true, s.random)
	s.run("call without a token is refused", true, func() error { return s.refusedWithout(nil) })
	s.run("call with a forged token is refused", true, func() error {
		return s.refusedWithout(staticToken("Bearer g11t1.forged.token"))
	})
	s.run("GenerateKey AES-256", true, s.generateAES)
	s.run("EncryptSingle/DecryptSingle CKM_AES_CBC_PAD", s.aesKey != nil, s.aesSingle)
	s.run("EncryptInit/Update/Final CKM_AES_CBC_PAD = EncryptSingle", s.aesKey != nil, s.aesMultiPart)
	s.run("GenerateKeyPair EC P-256", true, s.generateEC)
	s.run("SignSingle CKM_ECDSA over a SHA-256 digest", s.ecPair != nil, s.ecSign)
	s.run("VerifySingle CKM_ECDSA", s.ecSig != nil, s.ecVerifyServer)
	s.run("crypto/ecdsa verifies the signature with the SPKI public key", s.ecSig != nil, s.ecVerifyLocal)
	s.run("tampered signature -> Grep11Error CKR_SIGNATURE_INVALID", s.ecSig != nil, s.ecVerifyTampered)
	s.run("GenerateKeyPair RSA-2048, SignSingle CKM_SHA256_RSA_PKCS, crypto/rsa verifies", true, s.rsaSignVerify)
	s.run("one token for all calls, a new one once it is due for renewal", true, s.tokenReuseAndRenewal)

	fmt.Printf("%d passed, %d failed\n", s.passed, s.failed)
	if s.failed > 0 || s.passed == 0 {
		os.Exit(1)
	}
}
