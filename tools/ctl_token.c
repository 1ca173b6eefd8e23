/*
 * ecifctl token: makes a bearer token for a caller of ecifd and the line
 * of the access file that grants it its scopes (rpc/ACCESS.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "access.h"
#include "ctl.h"
#include "status.h"

/* Random bytes of a token, printed as twice as many hex digits. */
#define TOKEN_BYTES 32

static void token_usage(FILE *out)
{
    fputs("usage: ecifctl token --principal NAME --scopes LIST\n"
          "\n"
          "Prints a new bearer token on stdout and, on stderr, a comment\n"
          "and the line to add to ecifd's access file (append stderr to\n"
          "it). The file keeps only the token's SHA-256 digest; give the\n"
          "token to the caller alone.\n"
          "\n"
          "  --principal NAME  the caller's name in the audit log and the\n"
          "                    journal: 1 to 64 of A-Z a-z 0-9 . _ -\n"
          "  --scopes LIST     comma-separated: resolve, read, exposure,\n"
          "                    correct, add\n",
          out);
}

/* Fills token with TOKEN_BYTES random bytes as hex digits and a NUL. */
static int random_token(char token[2 * TOKEN_BYTES + 1])
{
    unsigned char bytes[TOKEN_BYTES];
    size_t got = 0;

    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(bytes); i++)
        snprintf(token + 2 * i, 3, "%02x", bytes[i]);
    return 0;
}

static void token_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Prints an error as a '#' comment line: stderr is usually appended to the
 * access file (2>> access), and a comment leaves that file valid.
 */
static void token_error(const char *fmt, ...)
{
    va_list ap;
    fputs("# ecifctl token: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see ecifctl token --help)\n", stderr);
}

int ctl_token_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"principal", required_argument, NULL, 'p'},
        {"scopes", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *principal = NULL, *scopes = NULL;
    int opt;

    optind = 1;
    opterr = 0; /* getopt's own messages would not be comments */
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'p') {
            principal = optarg;
        } else if (opt == 's') {
            scopes = optarg;
        } else if (opt == 'h') {
            token_usage(stdout);
            return 0;
        } else {
            token_error("unknown option or missing value in '%.80s'",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (principal == NULL || scopes == NULL || optind != argc) {
        token_error("--principal and --scopes are required, and nothing "
                    "else");
        return 2;
    }
    if (!ecif_principal_valid(principal)) {
        token_error("invalid --principal '%.80s': expected 1 to %d of A-Z "
                    "a-z 0-9 . _ - starting with a letter or digit",
                    principal, ECIF_PRINCIPAL_MAX);
        return 2;
    }
    uint32_t bits;
    char err[160];
    if (ecif_scope_parse(scopes, &bits, err, sizeof(err)) != ECIF_OK) {
        token_error("invalid --scopes: %s", err);
        return 2;
    }

    char token[2 * TOKEN_BYTES + 1];
    int rc = random_token(token);
    if (rc != 0) {
        token_error("getrandom failed: %s", strerror(-rc));
        return 1;
    }
    char digest[72];
    ecif_token_digest_str(token, strlen(token), digest);
    printf("%s\n", token);
    /* A comment line first, so that stderr can be appended to the access
     * file as it is. */
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "# %s, made %s by ecifctl token\n%s %s %s\n", principal,
            stamp, principal, scopes, digest);
    return 0;
}
