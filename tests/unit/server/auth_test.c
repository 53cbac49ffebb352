/* API keys, bearer tokens, base64url and the failure rate limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "ratelimit.h"

static const uint8_t mac_key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void b64url_round_trips_and_is_strict(void **state)
{
    (void)state;
    uint8_t in[40], back[40];
    char txt[80];
    for (size_t len = 0; len <= sizeof(in); len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(i * 37 + len);
        size_t n = auth_b64url_encode(in, len, txt, sizeof(txt));
        assert_int_equal(n, strlen(txt));
        assert_int_equal(auth_b64url_decode(txt, n, back, sizeof(back)), len);
        assert_memory_equal(in, back, len);
    }
    assert_int_equal(auth_b64url_decode("a", 1, back, sizeof(back)), (size_t)-1);
    assert_int_equal(auth_b64url_decode("ab+/", 4, back, sizeof(back)), (size_t)-1);
    assert_int_equal(auth_b64url_decode("AB", 2, back, sizeof(back)), (size_t)-1); /* bits */
    assert_int_equal(auth_b64url_decode("AAAAAAAA", 8, back, 5), (size_t)-1);      /* cap */
}

static void apikey_verifies_only_its_secret(void **state)
{
    (void)state;
    char text[AUTH_API_KEY_MAX];
    auth_key_record rec;
    assert_int_equal(auth_apikey_generate(text, &rec), CKR_OK);
    assert_true(strncmp(text, "g11k_", 5) == 0);
    uint8_t id[AUTH_KEY_ID_LEN], secret[AUTH_SECRET_LEN];
    assert_int_equal(auth_apikey_parse(text, id, secret), CKR_OK);
    assert_memory_equal(id, rec.key_id, sizeof(id));
    assert_int_equal(auth_apikey_verify(&rec, secret), CKR_OK);
    secret[5] ^= 1;
    assert_int_equal(auth_apikey_verify(&rec, secret), CKR_IBM_GREP11_NOT_AUTHENTICATED);

    static const char *const bad[] = {
        "", "g11k_", "g11k_abc", "g11x_AAAAAAAAAAAAAAAA.AAAA", "g11k_AAAAAAAAAAAAAAAA.short", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(auth_apikey_parse(bad[i], id, secret), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    assert_int_equal(auth_apikey_parse(NULL, id, secret), CKR_IBM_GREP11_NOT_AUTHENTICATED);
}

static auth_identity sample_identity(void)
{
    auth_identity id;
    memset(&id, 0, sizeof(id));
    memset(id.key_id, 0xab, sizeof(id.key_id));
    strcpy(id.principal, "alice");
    id.roles = AUTH_ROLE_CRYPTO | AUTH_ROLE_KEYSTORE_USER;
    id.ngrants = 2;
    memset(id.grants[0], 0x11, 16);
    memset(id.grants[1], 0x22, 16);
    strcpy(id.cert_identity, "client.example");
    id.expires_at = 2000;
    return id;
}

/* The token's tag is HMAC-SHA256(key, payload), computed here with
 * OpenSSL's one-shot HMAC: tokens issued by a replica of another version
 * verify on this one. */
static void token_round_trips(void **state)
{
    (void)state;
    auth_identity id = sample_identity(), got;
    char tok[AUTH_TOKEN_MAX];
    auth_token_key *k = auth_token_key_new(mac_key);
    assert_non_null(k);
    assert_int_equal(auth_token_issue(k, &id, tok), CKR_OK);
    assert_int_equal(auth_token_verify(k, tok, 1000, &got), CKR_OK);
    assert_memory_equal(got.key_id, id.key_id, sizeof(id.key_id));
    assert_string_equal(got.principal, "alice");
    assert_int_equal(got.roles, id.roles);
    assert_int_equal(got.ngrants, 2);
    assert_memory_equal(got.grants[1], id.grants[1], 16);
    assert_string_equal(got.cert_identity, "client.example");
    assert_int_equal(got.expires_at, 2000);

    const char *body = tok + strlen("g11t1."), *dot = strchr(body, '.');
    uint8_t payload[512], tag[32], want[32];
    unsigned int wl = 0;
    assert_non_null(dot);
    size_t n = auth_b64url_decode(body, (size_t)(dot - body), payload, sizeof(payload));
    assert_true(n != (size_t)-1);
    assert_int_equal(auth_b64url_decode(dot + 1, strlen(dot + 1), tag, sizeof(tag)), 32);
    assert_non_null(HMAC(EVP_sha256(), mac_key, 32, payload, n, want, &wl));
    assert_memory_equal(tag, want, 32);
    auth_token_key_free(k);
}

static void token_rejects_expiry_tampering_and_other_keys(void **state)
{
    (void)state;
    auth_identity id = sample_identity(), got;
    char tok[AUTH_TOKEN_MAX];
    auth_token_key *k = auth_token_key_new(mac_key);
    assert_non_null(k);
    assert_int_equal(auth_token_issue(k, &id, tok), CKR_OK);
    assert_int_equal(auth_token_verify(k, tok, 2000, &got), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    uint8_t other[32];
    memcpy(other, mac_key, 32);
    other[0] ^= 0x80;
    auth_token_key *ko = auth_token_key_new(other);
    assert_non_null(ko);
    assert_int_equal(auth_token_verify(ko, tok, 1000, &got), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    auth_token_key_free(ko);
    /* No key (a locked custody instance) verifies nothing and issues nothing. */
    assert_int_equal(auth_token_verify(NULL, tok, 1000, &got), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    assert_int_not_equal(auth_token_issue(NULL, &id, tok), CKR_OK);
    assert_int_equal(auth_token_issue(k, &id, tok), CKR_OK);
    /* Every single-character change is refused. */
    size_t len = strlen(tok);
    for (size_t i = 0; i < len; i++) {
        char t[AUTH_TOKEN_MAX];
        memcpy(t, tok, len + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(auth_token_verify(k, t, 1000, &got), CKR_OK);
    }
    assert_int_not_equal(auth_token_verify(k, "", 1000, &got), CKR_OK);
    assert_int_not_equal(auth_token_verify(k, "g11t1.", 1000, &got), CKR_OK);
    assert_int_not_equal(auth_token_verify(k, NULL, 1000, &got), CKR_OK);
    auth_token_key_free(k);
}

static void ratelimit_blocks_after_burst_and_refills(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_new(3, 1000);
    assert_non_null(rl);
    uint64_t t = 1000000;
    for (int i = 0; i < 3; i++) {
        assert_true(ratelimit_allow(rl, "ipv4:10.0.0.1:5555", t));
        ratelimit_fail(rl, "ipv4:10.0.0.1:5555", t);
    }
    assert_false(ratelimit_allow(rl, "ipv4:10.0.0.1:6666", t)); /* other port, same peer */
    assert_true(ratelimit_allow(rl, "ipv4:10.0.0.2:5555", t));  /* other peer */
    assert_true(ratelimit_allow(rl, "ipv4:10.0.0.1:5555", t + 1000));
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url_round_trips_and_is_strict),
        cmocka_unit_test(apikey_verifies_only_its_secret),
        cmocka_unit_test(token_round_trips),
        cmocka_unit_test(token_rejects_expiry_tampering_and_other_keys),
        cmocka_unit_test(ratelimit_blocks_after_burst_and_refills),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
