/*
 * Unit tests of access control's building blocks: SHA-256 against the
 * FIPS 180-4 examples and at the lengths where padding needs a second
 * block, scope lists, principal names, and token lookup in an access
 * file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "status.h"
#include "unit.h"

/* Returns the "sha256:..." digest of len bytes of c. */
static const char *digest_of_run(char c, size_t len)
{
    static char out[72];
    char *data = malloc(len + 1);

    memset(data, c, len);
    ecif_token_digest_str(data, len, out);
    free(data);
    return out;
}

static void test_sha256_examples(void)
{
    char out[72];

    ecif_token_digest_str("abc", 3, out);
    CHECK_STR(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                   "b410ff61f20015ad");
    ecif_token_digest_str("", 0, out);
    CHECK_STR(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                   "a495991b7852b855");
    const char *two_blocks =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ecif_token_digest_str(two_blocks, strlen(two_blocks), out);
    CHECK_STR(out, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167"
                   "f6ecedd419db06c1");
    CHECK_STR(digest_of_run('a', 1000000),
              "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d3"
              "9ccc7112cd0");
}

static void test_sha256_padding_boundaries(void)
{
    /* 55 bytes fit the length in one block, 56 need a second. */
    CHECK_STR(digest_of_run('a', 55),
              "sha256:9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1"
              "e910f734318");
    CHECK_STR(digest_of_run('a', 56),
              "sha256:b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef797"
              "0686ec6738a");
    CHECK_STR(digest_of_run('a', 64),
              "sha256:ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337"
              "df154668eb");
}

static void test_scope_lists(void)
{
    uint32_t scopes = 0;
    char err[160];

    CHECK_INT(ecif_scope_parse("resolve,exposure", &scopes, err, sizeof(err)),
              ECIF_OK);
    CHECK_INT(scopes, ECIF_SCOPE_RESOLVE | ECIF_SCOPE_EXPOSURE);
    CHECK_INT(ecif_scope_parse("add", &scopes, err, sizeof(err)), ECIF_OK);
    CHECK_INT(scopes, ECIF_SCOPE_ADD);
    CHECK_INT(ecif_scope_parse("read,", &scopes, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK_STR(err, "unknown scope '' (expected resolve, read, exposure, "
                   "correct or add)");
    CHECK_INT(ecif_scope_parse("correct,correct", &scopes, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK_STR(err, "scope 'correct' is listed twice");
    CHECK_STR(ecif_scope_str(ECIF_SCOPE_READ), "read");
    CHECK_STR(ecif_scope_str(ECIF_SCOPE_READ | ECIF_SCOPE_ADD), "?");
}

static void test_principal_names(void)
{
    CHECK(ecif_principal_valid("loan-app.v2_EU"));
    CHECK(!ecif_principal_valid(""));
    CHECK(!ecif_principal_valid("anna li"));
    CHECK(!ecif_principal_valid("anna:li"));
    char longest[ECIF_PRINCIPAL_MAX + 2];
    memset(longest, 'x', sizeof(longest));
    longest[ECIF_PRINCIPAL_MAX] = '\0';
    CHECK(ecif_principal_valid(longest));
    longest[ECIF_PRINCIPAL_MAX] = 'x';
    longest[ECIF_PRINCIPAL_MAX + 1] = '\0';
    CHECK(!ecif_principal_valid(longest));
}

static void test_find_token(void)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/test_access.%d", dir ? dir : "/tmp",
             (int)getpid());
    char alpha[72], beta[72];
    ecif_token_digest_str("alpha-token", 11, alpha);
    ecif_token_digest_str("beta-token", 10, beta);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fprintf(f, "# callers\n\nalpha resolve %s # loans\n\tbeta read,add %s\n",
            alpha, beta);
    fclose(f);
    chmod(path, 0600);

    ecif_access_t *access = NULL;
    char err[512];
    CHECK_INT(ecif_access_load(path, &access, err, sizeof(err)), ECIF_OK);
    if (access != NULL) {
        CHECK_INT(ecif_access_count(access), 2);
        const ecif_principal_t *p = ecif_access_find(access, "beta-token", 10);
        CHECK(p != NULL);
        if (p != NULL) {
            CHECK_STR(p->name, "beta");
            CHECK_INT(p->scopes, ECIF_SCOPE_READ | ECIF_SCOPE_ADD);
        }
        CHECK(ecif_access_find(access, "beta-toke", 9) == NULL);
        CHECK(ecif_access_find(access, "", 0) == NULL);
        ecif_access_free(access);
    }

    chmod(path, 0660);
    CHECK_INT(ecif_access_load(path, &access, err, sizeof(err)), ECIF_EINVAL);
    CHECK(strstr(err, "may be written by group or others") != NULL);
    unlink(path);
    CHECK_INT(ecif_access_load(path, &access, err, sizeof(err)), ECIF_EIO);
    CHECK(access == NULL);
}

int main(void)
{
    RUN(test_sha256_examples);
    RUN(test_sha256_padding_boundaries);
    RUN(test_scope_lists);
    RUN(test_principal_names);
    RUN(test_find_token);
    return unit_report();
}
