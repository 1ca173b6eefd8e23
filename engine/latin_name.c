/*
 * Latin-script name matching aids. The phonetic code is Double Metaphone
 * as Lawrence Philips published it (C/C++ Users Journal, June 2000),
 * written here rule by rule. Each letter is coded from its context, and an
 * ambiguous context adds different sounds to the primary and the alternate
 * code. The nickname table and the particle list are ours, described in
 * engine/LATIN_NAMES.md.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "latin_name.h"

/* Letters of a token that the phonetic coder reads at most. */
#define METAPHONE_INPUT_MAX 32

/* State of one Double Metaphone run. */
typedef struct metaphone {
    char word[METAPHONE_INPUT_MAX + 1]; /* upper-case letters A-Z */
    int length;
    int last;
    bool slavo_germanic;
    char primary[LATIN_METAPHONE_SIZE];
    char alternate[LATIN_METAPHONE_SIZE];
    size_t n_primary;
    size_t n_alternate;
} metaphone_t;

static char letter_at(const metaphone_t *m, int pos)
{
    return pos >= 0 && pos < m->length ? m->word[pos] : '\0';
}

/*
 * Returns true when one of the '|'-separated alternatives of list occurs
 * in the word at pos ("CH|CK").
 */
static bool at(const metaphone_t *m, int pos, const char *list)
{
    if (pos < 0)
        return false;

    const char *alt = list;
    while (*alt != '\0') {
        size_t len = strcspn(alt, "|");
        if (pos + (int)len <= m->length && memcmp(m->word + pos, alt, len) == 0)
            return true;
        alt += len;
        if (*alt == '|')
            alt++;
    }
    return false;
}

static bool vowel_at(const metaphone_t *m, int pos)
{
    char c = letter_at(m, pos);
    return c != '\0' && strchr("AEIOUY", c) != NULL;
}

static void append(char *code, size_t *n, const char *sound)
{
    for (; *sound != '\0' && *n < LATIN_METAPHONE_MAX; sound++)
        code[(*n)++] = *sound;
    code[*n] = '\0';
}

/* Adds a sound to both codes, or main and alt when they differ. */
static void add2(metaphone_t *m, const char *main, const char *alt)
{
    append(m->primary, &m->n_primary, main);
    append(m->alternate, &m->n_alternate, alt);
}

static void add(metaphone_t *m, const char *sound)
{
    add2(m, sound, sound);
}

/* Returns the position after a letter that may be doubled ("BB"). */
static int skip_double(const metaphone_t *m, int pos, char c)
{
    return letter_at(m, pos + 1) == c ? pos + 2 : pos + 1;
}

/* "CH" at pos; returns the position after it. */
static int code_ch(metaphone_t *m, int pos)
{
    if (pos > 0 && at(m, pos, "CHAE")) { /* michael */
        add2(m, "K", "X");
        return pos + 2;
    }
    /* Greek roots at the start: chorus, character, chemistry, chianti. */
    if (pos == 0 && !at(m, 0, "CHORE") &&
        (at(m, pos + 1, "HARAC|HARIS") || at(m, pos + 1, "HOR|HYM|HIA|HEM"))) {
        add(m, "K");
        return pos + 2;
    }
    /* Germanic "sch", orchestra, architect, orchid, and ch before a
     * consonant: K. */
    if (at(m, 0, "SCH") || at(m, pos - 2, "ORCHES|ARCHIT|ORCHID") ||
        at(m, pos + 2, "T|S") ||
        ((at(m, pos - 1, "A|O|U|E") || pos == 0) &&
         (at(m, pos + 2, "L|R|N|M|B|H|F|V|W") || pos + 2 >= m->length))) {
        add(m, "K");
    } else if (pos > 0) {
        add2(m, at(m, 0, "MC") ? "K" : "X", "K");
    } else {
        add(m, "X");
    }
    return pos + 2;
}

/* "CC" at pos, not in "mcc..."; returns the position after it. */
static int code_cc(metaphone_t *m, int pos)
{
    /* bellocchio but not bacchus */
    if (at(m, pos + 2, "I|E|H") && !at(m, pos + 2, "HU")) {
        /* accident, accede, succeed */
        if ((pos == 1 && letter_at(m, 0) == 'A') ||
            at(m, pos - 1, "UCCEE|UCCES"))
            add(m, "KS");
        else /* bacci, bertucci */
            add(m, "X");
        return pos + 3;
    }
    add(m, "K");
    return pos + 2;
}

static int code_c(metaphone_t *m, int pos)
{
    /* Germanic "ach" as in bacher, macher, but not in "achi" or "ache". */
    if (pos > 1 && !vowel_at(m, pos - 2) && at(m, pos - 1, "ACH") &&
        letter_at(m, pos + 2) != 'I' &&
        (letter_at(m, pos + 2) != 'E' || at(m, pos - 2, "BACHER|MACHER"))) {
        add(m, "K");
        return pos + 2;
    }
    if (pos == 0 && at(m, 0, "CAESAR")) {
        add(m, "S");
        return pos + 2;
    }
    if (at(m, pos, "CHIA")) { /* chianti */
        add(m, "K");
        return pos + 2;
    }
    if (at(m, pos, "CH"))
        return code_ch(m, pos);
    if (at(m, pos, "CZ") && !at(m, pos - 2, "WICZ")) { /* czerny */
        add2(m, "S", "X");
        return pos + 2;
    }
    if (at(m, pos + 1, "CIA")) { /* focaccia */
        add(m, "X");
        return pos + 3;
    }
    if (at(m, pos, "CC") && !(pos == 1 && letter_at(m, 0) == 'M'))
        return code_cc(m, pos);
    if (at(m, pos, "CK|CG|CQ")) {
        add(m, "K");
        return pos + 2;
    }
    if (at(m, pos, "CI|CE|CY")) {
        /* Italian "cio", "cie", "cia" */
        if (at(m, pos, "CIO|CIE|CIA"))
            add2(m, "S", "X");
        else
            add(m, "S");
        return pos + 2;
    }
    add(m, "K");
    if (at(m, pos + 1, "C|K|Q") && !at(m, pos + 1, "CE|CI"))
        return pos + 2;
    return pos + 1;
}

static int code_d(metaphone_t *m, int pos)
{
    if (at(m, pos, "DG")) {
        if (at(m, pos + 2, "I|E|Y")) { /* edge */
            add(m, "J");
            return pos + 3;
        }
        add(m, "TK"); /* edgar */
        return pos + 2;
    }
    add(m, "T");
    return at(m, pos, "DT|DD") ? pos + 2 : pos + 1;
}

/* "GH" at pos; returns the position after it. */
static int code_gh(metaphone_t *m, int pos)
{
    if (pos > 0 && !vowel_at(m, pos - 1)) {
        add(m, "K");
        return pos + 2;
    }
    if (pos == 0) { /* ghislane, ghost */
        add(m, letter_at(m, pos + 2) == 'I' ? "J" : "K");
        return pos + 2;
    }
    /* Silent after b, h or d two to four letters back: hugh, bough,
     * broughton. */
    if ((pos > 1 && at(m, pos - 2, "B|H|D")) ||
        (pos > 2 && at(m, pos - 3, "B|H|D")) ||
        (pos > 3 && at(m, pos - 4, "B|H")))
        return pos + 2;
    /* laugh, cough, tough: F */
    if (pos > 2 && letter_at(m, pos - 1) == 'U' && at(m, pos - 3, "C|G|L|R|T"))
        add(m, "F");
    else if (letter_at(m, pos - 1) != 'I')
        add(m, "K");
    return pos + 2;
}

static int code_g(metaphone_t *m, int pos)
{
    char next = letter_at(m, pos + 1);

    if (next == 'H')
        return code_gh(m, pos);
    if (next == 'N') {
        if (pos == 1 && vowel_at(m, 0) && !m->slavo_germanic)
            add2(m, "KN", "N");
        else if (!at(m, pos + 2, "EY") && next != 'Y' && !m->slavo_germanic)
            add2(m, "N", "KN");
        else
            add(m, "KN");
        return pos + 2;
    }
    if (at(m, pos + 1, "LI") && !m->slavo_germanic) { /* tagliaro */
        add2(m, "KL", "L");
        return pos + 2;
    }
    /* A hard or soft g at the start: gerber, gilbert, gyles. */
    if (pos == 0 &&
        (next == 'Y' || at(m, pos + 1, "ES|EP|EB|EL|EY|IB|IL|IN|IE|EI|ER"))) {
        add2(m, "K", "J");
        return pos + 2;
    }
    if ((at(m, pos + 1, "ER") || next == 'Y') &&
        !at(m, 0, "DANGER|RANGER|MANGER") && !at(m, pos - 1, "E|I") &&
        !at(m, pos - 1, "RGY|OGY")) {
        add2(m, "K", "J");
        return pos + 2;
    }
    if (at(m, pos + 1, "E|I|Y") || at(m, pos - 1, "AGGI|OGGI")) {
        if (at(m, 0, "SCH") || at(m, pos + 1, "ET"))
            add(m, "K");
        else if (at(m, pos + 1, "IER") && pos + 4 == m->length)
            add(m, "J");
        else
            add2(m, "J", "K");
        return pos + 2;
    }
    add(m, "K");
    return skip_double(m, pos, 'G');
}

static int code_j(metaphone_t *m, int pos)
{
    if (at(m, pos, "JOSE")) { /* Spanish jose: H */
        if (pos == 0 && pos + 4 == m->length)
            add(m, "H");
        else
            add2(m, "J", "H");
        return pos + 1;
    }
    if (pos == 0)
        add2(m, "J", "A"); /* jankelowicz */
    else if (vowel_at(m, pos - 1) && !m->slavo_germanic &&
             at(m, pos + 1, "A|O"))
        add2(m, "J", "H"); /* bajador */
    else if (pos == m->last)
        add2(m, "J", "");
    else if (!at(m, pos + 1, "L|T|K|S|N|M|B|Z") && !at(m, pos - 1, "S|K|L"))
        add(m, "J");
    return skip_double(m, pos, 'J');
}

static int code_l(metaphone_t *m, int pos)
{
    if (letter_at(m, pos + 1) != 'L') {
        add(m, "L");
        return pos + 1;
    }
    /* Spanish "ll": cabrillo, gallegos */
    if ((pos == m->length - 3 && at(m, pos - 1, "ILLO|ILLA|ALLE")) ||
        ((at(m, m->last - 1, "AS|OS") || at(m, m->last, "A|O")) &&
         at(m, pos - 1, "ALLE")))
        add2(m, "L", "");
    else
        add(m, "L");
    return pos + 2;
}

static int code_m(metaphone_t *m, int pos)
{
    add(m, "M");
    /* dumb, thumbelina: the b is silent */
    if (at(m, pos - 1, "UMB") && (pos + 1 == m->last || at(m, pos + 2, "ER")))
        return pos + 2;
    return skip_double(m, pos, 'M');
}

static int code_p(metaphone_t *m, int pos)
{
    if (letter_at(m, pos + 1) == 'H') {
        add(m, "F");
        return pos + 2;
    }
    add(m, "P");
    /* campbell, raspberry */
    return at(m, pos + 1, "P|B") ? pos + 2 : pos + 1;
}

static int code_r(metaphone_t *m, int pos)
{
    /* French final "ier": rogier is RJ or RJR */
    if (pos == m->last && !m->slavo_germanic && at(m, pos - 2, "IE") &&
        !at(m, pos - 4, "ME|MA"))
        add2(m, "", "R");
    else
        add(m, "R");
    return skip_double(m, pos, 'R');
}

/* "SC" at pos; returns the position after it. */
static int code_sc(metaphone_t *m, int pos)
{
    if (letter_at(m, pos + 2) == 'H') {
        /* Dutch schooner, schenker */
        if (at(m, pos + 3, "OO|ER|EN|UY|ED|EM")) {
            if (at(m, pos + 3, "ER|EN")) /* schermerhorn */
                add2(m, "X", "SK");
            else
                add(m, "SK");
            return pos + 3;
        }
        if (pos == 0 && !vowel_at(m, 3) && letter_at(m, 3) != 'W')
            add2(m, "X", "S"); /* schmidt */
        else
            add(m, "X");
        return pos + 3;
    }
    if (at(m, pos + 2, "I|E|Y"))
        add(m, "S");
    else
        add(m, "SK");
    return pos + 3;
}

static int code_s(metaphone_t *m, int pos)
{
    if (at(m, pos - 1, "ISL|YSL")) /* island, carlysle */
        return pos + 1;
    if (pos == 0 && at(m, pos, "SUGAR")) {
        add2(m, "X", "S");
        return pos + 1;
    }
    if (at(m, pos, "SH")) {
        /* s and h of two Germanic word parts: rheinsheim, hoek */
        if (at(m, pos + 1, "HEIM|HOEK|HOLM|HOLZ"))
            add(m, "S");
        else
            add(m, "X");
        return pos + 2;
    }
    if (at(m, pos, "SIO|SIA")) { /* Italian and Armenian */
        if (m->slavo_germanic)
            add(m, "S");
        else
            add2(m, "S", "X");
        return pos + 3;
    }
    /* German and Anglicized forms: smith and schmidt, snider and
     * schneider; also "sz" */
    if ((pos == 0 && at(m, pos + 1, "M|N|L|W")) || at(m, pos + 1, "Z")) {
        add2(m, "S", "X");
        return at(m, pos + 1, "Z") ? pos + 2 : pos + 1;
    }
    if (at(m, pos, "SC"))
        return code_sc(m, pos);
    /* French final "ais", "ois" */
    if (pos == m->last && at(m, pos - 2, "AI|OI"))
        add2(m, "", "S");
    else
        add(m, "S");
    return at(m, pos + 1, "S|Z") ? pos + 2 : pos + 1;
}

static int code_t(metaphone_t *m, int pos)
{
    if (at(m, pos, "TION|TIA|TCH")) {
        add(m, "X");
        return pos + 3;
    }
    if (at(m, pos, "TH|TTH")) {
        /* thomas, thames: a plain T */
        if (at(m, pos + 2, "OM|AM") || at(m, 0, "SCH"))
            add(m, "T");
        else
            add2(m, "0", "T");
        return pos + 2;
    }
    add(m, "T");
    return at(m, pos + 1, "T|D") ? pos + 2 : pos + 1;
}

static int code_w(metaphone_t *m, int pos)
{
    if (at(m, pos, "WR")) {
        add(m, "R");
        return pos + 2;
    }
    /* At the start, w before a vowel may be sounded as a vowel: wasserman
     * is ASRM or FSRM; the letter is still coded below. */
    if (pos == 0 && (vowel_at(m, pos + 1) || at(m, pos, "WH"))) {
        if (vowel_at(m, pos + 1))
            add2(m, "A", "F");
        else
            add(m, "A");
    }
    /* Polish final "ewski", and arnow: F in the alternate only */
    if ((pos == m->last && vowel_at(m, pos - 1)) ||
        at(m, pos - 1, "EWSKI|EWSKY|OWSKI|OWSKY") || at(m, 0, "SCH")) {
        add2(m, "", "F");
        return pos + 1;
    }
    if (at(m, pos, "WICZ|WITZ")) { /* Polish filipowicz */
        add2(m, "TS", "FX");
        return pos + 4;
    }
    return pos + 1;
}

static int code_x(metaphone_t *m, int pos)
{
    /* French final x is silent: breaux */
    if (!(pos == m->last &&
          (at(m, pos - 3, "IAU|EAU") || at(m, pos - 2, "AU|OU"))))
        add(m, "KS");
    return at(m, pos + 1, "C|X") ? pos + 2 : pos + 1;
}

static int code_z(metaphone_t *m, int pos)
{
    if (letter_at(m, pos + 1) == 'H') { /* Chinese pinyin zhao */
        add(m, "J");
        return pos + 2;
    }
    if (at(m, pos + 1, "ZO|ZI|ZA") ||
        (m->slavo_germanic && pos > 0 && letter_at(m, pos - 1) != 'T'))
        add2(m, "S", "TS");
    else
        add(m, "S");
    return skip_double(m, pos, 'Z');
}

/* Codes the letter at pos; returns the position of the next one to code. */
static int code_letter(metaphone_t *m, int pos)
{
    char c = m->word[pos];

    switch (c) {
    case 'A':
    case 'E':
    case 'I':
    case 'O':
    case 'U':
    case 'Y':
        /* Vowels count only at the start, all as A. */
        if (pos == 0)
            add(m, "A");
        return pos + 1;
    case 'B':
        add(m, "P");
        return skip_double(m, pos, 'B');
    case 'C':
        return code_c(m, pos);
    case 'D':
        return code_d(m, pos);
    case 'F':
    case 'K':
    case 'N':
        add(m, (char[]){c, '\0'});
        return skip_double(m, pos, c);
    case 'G':
        return code_g(m, pos);
    case 'H':
        /* Only between vowels or at the start before one. */
        if ((pos == 0 || vowel_at(m, pos - 1)) && vowel_at(m, pos + 1)) {
            add(m, "H");
            return pos + 2;
        }
        return pos + 1;
    case 'J':
        return code_j(m, pos);
    case 'L':
        return code_l(m, pos);
    case 'M':
        return code_m(m, pos);
    case 'P':
        return code_p(m, pos);
    case 'Q':
        add(m, "K");
        return skip_double(m, pos, 'Q');
    case 'R':
        return code_r(m, pos);
    case 'S':
        return code_s(m, pos);
    case 'T':
        return code_t(m, pos);
    case 'V':
        add(m, "F");
        return skip_double(m, pos, 'V');
    case 'W':
        return code_w(m, pos);
    case 'X':
        return code_x(m, pos);
    case 'Z':
        return code_z(m, pos);
    default:
        return pos + 1;
    }
}

/* Copies the a-z letters of token, upper-cased, into the run state. */
static void metaphone_init(metaphone_t *m, const char *token)
{
    memset(m, 0, sizeof(*m));
    for (const char *p = token; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z' && m->length < METAPHONE_INPUT_MAX)
            m->word[m->length++] = (char)(*p - 'a' + 'A');
        else if (*p >= 'A' && *p <= 'Z' && m->length < METAPHONE_INPUT_MAX)
            m->word[m->length++] = *p;
    }
    m->word[m->length] = '\0';
    m->last = m->length - 1;
    /* Germanic and Slavic spellings change several rules. */
    m->slavo_germanic =
        strchr(m->word, 'W') != NULL || strchr(m->word, 'K') != NULL ||
        strstr(m->word, "CZ") != NULL || strstr(m->word, "WITZ") != NULL;
}

size_t latin_double_metaphone(const char *token,
                              char primary[LATIN_METAPHONE_SIZE],
                              char alternate[LATIN_METAPHONE_SIZE])
{
    metaphone_t m;
    int pos = 0;

    metaphone_init(&m, token != NULL ? token : "");

    /* Silent first letters: gnome, knight, pneumatic, wright, psychology. */
    if (at(&m, 0, "GN|KN|PN|WR|PS"))
        pos = 1;
    /* Initial x is s: xavier. */
    if (letter_at(&m, 0) == 'X') {
        add(&m, "S");
        pos = 1;
    }

    while (pos < m.length && (m.n_primary < LATIN_METAPHONE_MAX ||
                              m.n_alternate < LATIN_METAPHONE_MAX)) {
        int next = code_letter(&m, pos);
        assert(next > pos);
        pos = next;
    }

    memcpy(primary, m.primary, m.n_primary + 1);
    memcpy(alternate, m.alternate, m.n_alternate + 1);
    return m.n_primary;
}

bool latin_metaphone_match(const char *a, const char *b)
{
    char pa[LATIN_METAPHONE_SIZE], aa[LATIN_METAPHONE_SIZE];
    char pb[LATIN_METAPHONE_SIZE], ab[LATIN_METAPHONE_SIZE];

    if (latin_double_metaphone(a, pa, aa) == 0 ||
        latin_double_metaphone(b, pb, ab) == 0)
        return false;
    return strcmp(pa, pb) == 0 || strcmp(pa, ab) == 0 ||
           (aa[0] != '\0' && (strcmp(aa, pb) == 0 || strcmp(aa, ab) == 0));
}

/*
 * Diminutives and short forms of English given names, in alphabetical
 * order for the reader. A name with several canonical forms lists them with '|'
 * the most common first (our estimate), at most LATIN_NICKNAME_MAX of them.
 */
static const struct nickname {
    const char *name;
    const char *canonical;
} nicknames[] = {
    {"abby", "abigail"},
    {"abe", "abraham"},
    {"al", "albert|alfred|alan|alexander"},
    {"alec", "alexander"},
    {"alex", "alexander|alexandra"},
    {"alf", "alfred"},
    {"alfie", "alfred"},
    {"allie", "alice|alison|alexandra"},
    {"andy", "andrew"},
    {"angie", "angela"},
    {"annie", "anne|ann"},
    {"archie", "archibald"},
    {"art", "arthur"},
    {"artie", "arthur"},
    {"barb", "barbara"},
    {"barbie", "barbara"},
    {"bart", "bartholomew"},
    {"bea", "beatrice"},
    {"becca", "rebecca"},
    {"becky", "rebecca"},
    {"ben", "benjamin"},
    {"benji", "benjamin"},
    {"benny", "benjamin"},
    {"bernie", "bernard"},
    {"bert", "albert|herbert|bertram"},
    {"bess", "elizabeth"},
    {"bessie", "elizabeth"},
    {"beth", "elizabeth"},
    {"betsy", "elizabeth"},
    {"bette", "elizabeth"},
    {"betty", "elizabeth"},
    {"bill", "william"},
    {"billy", "william"},
    {"bob", "robert"},
    {"bobbie", "robert|roberta"},
    {"bobby", "robert"},
    {"brad", "bradley"},
    {"cal", "calvin"},
    {"cam", "cameron"},
    {"cassie", "cassandra"},
    {"cathy", "catherine|katherine"},
    {"charlie", "charles|charlotte"},
    {"chas", "charles"},
    {"chris", "christopher|christine|christina|christian"},
    {"chrissy", "christine|christina"},
    {"christy", "christine|christina"},
    {"chuck", "charles"},
    {"cindy", "cynthia|lucinda"},
    {"cliff", "clifford"},
    {"connie", "constance"},
    {"dan", "daniel"},
    {"danny", "daniel"},
    {"dave", "david"},
    {"davey", "david"},
    {"deb", "deborah"},
    {"debbie", "deborah"},
    {"debby", "deborah"},
    {"dick", "richard"},
    {"dolly", "dorothy"},
    {"dom", "dominic"},
    {"don", "donald"},
    {"donny", "donald"},
    {"dot", "dorothy"},
    {"dottie", "dorothy"},
    {"doug", "douglas"},
    {"drew", "andrew"},
    {"ed", "edward|edwin|edmund"},
    {"eddie", "edward|edwin|edmund"},
    {"eddy", "edward|edwin|edmund"},
    {"eliza", "elizabeth"},
    {"ellie", "eleanor|elizabeth|ellen"},
    {"elsie", "elizabeth"},
    {"fanny", "frances"},
    {"fran", "frances|francis"},
    {"frank", "francis|franklin"},
    {"frankie", "francis|frances|franklin"},
    {"fred", "frederick|alfred"},
    {"freddie", "frederick|alfred"},
    {"freddy", "frederick|alfred"},
    {"gabe", "gabriel"},
    {"gail", "abigail"},
    {"gene", "eugene"},
    {"geoff", "geoffrey"},
    {"gerry", "gerald|geraldine"},
    {"ginny", "virginia"},
    {"greg", "gregory"},
    {"gus", "augustus|august|angus"},
    {"hal", "henry|harold"},
    {"hank", "henry"},
    {"harry", "henry|harold"},
    {"hattie", "harriet"},
    {"herb", "herbert"},
    {"hughie", "hugh"},
    {"ike", "isaac"},
    {"issy", "isabel|isabella"},
    {"izzy", "isabel|isabella|isidore|isaac"},
    {"jack", "john"},
    {"jackie", "jacqueline|john"},
    {"jake", "jacob"},
    {"jamie", "james"},
    {"jan", "janet|janice|jane"},
    {"jay", "james|jason"},
    {"jeff", "jeffrey|geoffrey"},
    {"jen", "jennifer"},
    {"jenn", "jennifer"},
    {"jenny", "jennifer|jane"},
    {"jerry", "gerald|jerome|jeremiah"},
    {"jess", "jessica|jesse"},
    {"jessie", "jessica|jesse"},
    {"jim", "james"},
    {"jimmie", "james"},
    {"jimmy", "james"},
    {"jo", "joanne|josephine|joan"},
    {"joe", "joseph"},
    {"joey", "joseph"},
    {"johnny", "john|jonathan"},
    {"jon", "john|jonathan"},
    {"jonny", "john|jonathan"},
    {"josh", "joshua"},
    {"judy", "judith"},
    {"jules", "julian|julia"},
    {"julie", "julia"},
    {"kat", "katherine|catherine"},
    {"kate", "katherine|catherine|kathryn|kathleen"},
    {"kathy", "katherine|catherine|kathryn|kathleen"},
    {"katie", "katherine|catherine|kathryn|kathleen"},
    {"katy", "katherine|catherine"},
    {"ken", "kenneth"},
    {"kenny", "kenneth"},
    {"kim", "kimberly"},
    {"kit", "christopher|katherine|catherine"},
    {"kitty", "katherine|catherine"},
    {"kris", "kristen|kristine|christopher"},
    {"larry", "lawrence"},
    {"len", "leonard"},
    {"lenny", "leonard"},
    {"les", "leslie|lester"},
    {"libby", "elizabeth"},
    {"lisa", "elizabeth"},
    {"liz", "elizabeth"},
    {"liza", "elizabeth"},
    {"lizzie", "elizabeth"},
    {"lizzy", "elizabeth"},
    {"lottie", "charlotte"},
    {"lou", "louis|louise"},
    {"maddie", "madeline|madison"},
    {"madge", "margaret"},
    {"maggie", "margaret"},
    {"mamie", "mary"},
    {"mandy", "amanda"},
    {"manny", "manuel|emmanuel"},
    {"marge", "margaret"},
    {"margie", "margaret"},
    {"marty", "martin"},
    {"matt", "matthew"},
    {"matty", "matthew"},
    {"max", "maximilian|maxwell"},
    {"meg", "margaret"},
    {"mel", "melvin|melissa|melanie"},
    {"mick", "michael"},
    {"mickey", "michael"},
    {"mike", "michael"},
    {"mikey", "michael"},
    {"millie", "mildred|millicent|camilla"},
    {"minnie", "wilhelmina|mary"},
    {"mitch", "mitchell"},
    {"mo", "maurice|maureen"},
    {"molly", "mary"},
    {"nan", "anne|ann"},
    {"nancy", "anne|ann|nancy"},
    {"nat", "nathan|nathaniel|natalie"},
    {"nate", "nathan|nathaniel"},
    {"ned", "edward|edmund"},
    {"nell", "eleanor|helen|ellen"},
    {"nellie", "eleanor|helen|ellen"},
    {"nick", "nicholas|nicole"},
    {"nicky", "nicholas|nicole"},
    {"nikki", "nicole|nicola"},
    {"ollie", "oliver|olivia"},
    {"ozzie", "oswald|oscar"},
    {"paddy", "patrick"},
    {"pam", "pamela"},
    {"pat", "patrick|patricia"},
    {"patsy", "patricia"},
    {"patty", "patricia"},
    {"peggy", "margaret"},
    {"pete", "peter"},
    {"phil", "philip|phillip"},
    {"polly", "mary"},
    {"ray", "raymond"},
    {"reg", "reginald"},
    {"reggie", "reginald"},
    {"rich", "richard"},
    {"richie", "richard"},
    {"rick", "richard|eric|frederick"},
    {"ricky", "richard|eric|frederick"},
    {"rob", "robert"},
    {"robbie", "robert"},
    {"robby", "robert"},
    {"ron", "ronald"},
    {"ronnie", "ronald"},
    {"rosie", "rose|rosemary"},
    {"rudy", "rudolph"},
    {"russ", "russell"},
    {"sadie", "sarah"},
    {"sal", "salvatore|sarah"},
    {"sally", "sarah"},
    {"sam", "samuel|samantha"},
    {"sammy", "samuel|samantha"},
    {"sandy", "sandra|alexander|alexandra"},
    {"sid", "sidney"},
    {"stan", "stanley"},
    {"steve", "steven|stephen"},
    {"stevie", "steven|stephen"},
    {"stu", "stuart"},
    {"sue", "susan|suzanne"},
    {"susie", "susan|suzanne"},
    {"suzy", "susan|suzanne"},
    {"ted", "edward|theodore"},
    {"teddy", "edward|theodore"},
    {"terry", "terence|teresa"},
    {"tess", "teresa"},
    {"tessa", "teresa"},
    {"theo", "theodore"},
    {"tim", "timothy"},
    {"timmy", "timothy"},
    {"tina", "christina|martina"},
    {"tom", "thomas"},
    {"tommy", "thomas"},
    {"tony", "anthony|antonio"},
    {"tricia", "patricia"},
    {"trish", "patricia"},
    {"trixie", "beatrice"},
    {"trudy", "gertrude"},
    {"val", "valerie|valentine"},
    {"vicki", "victoria"},
    {"vicky", "victoria"},
    {"vince", "vincent"},
    {"wally", "walter"},
    {"walt", "walter"},
    {"will", "william"},
    {"willie", "william"},
    {"willy", "william"},
    {"xander", "alexander"},
    {"zach", "zachary"},
    {"zack", "zachary"},
};

#define N_NICKNAMES (sizeof(nicknames) / sizeof(nicknames[0]))

/* Adds name to out unless present; returns the new count. */
static size_t add_canonical(char out[][LATIN_CANONICAL_SIZE], size_t count,
                            const char *name, size_t len)
{
    if (count >= LATIN_NICKNAME_MAX || len == 0 || len >= LATIN_CANONICAL_SIZE)
        return count;
    for (size_t i = 0; i < count; i++) {
        if (strlen(out[i]) == len && memcmp(out[i], name, len) == 0)
            return count;
    }
    memcpy(out[count], name, len);
    out[count][len] = '\0';
    return count + 1;
}

/*
 * Lookup indexes over the nickname table, built once: the entries sorted
 * by diminutive, and every canonical name sorted, so that both lookups are
 * binary searches. Scoring calls them for every pair of name tokens.
 */
static const struct nickname *by_name[N_NICKNAMES];
static char canonical_names[4 * N_NICKNAMES][LATIN_CANONICAL_SIZE];
static size_t n_canonical_names;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static int compare_entries(const void *a, const void *b)
{
    const struct nickname *x = *(const struct nickname *const *)a;
    const struct nickname *y = *(const struct nickname *const *)b;
    return strcmp(x->name, y->name);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void build_index(void)
{
    for (size_t i = 0; i < N_NICKNAMES; i++) {
        by_name[i] = &nicknames[i];
        const char *p = nicknames[i].canonical;
        while (*p != '\0') {
            size_t n = strcspn(p, "|");
            if (n < LATIN_CANONICAL_SIZE &&
                n_canonical_names < 4 * N_NICKNAMES) {
                memcpy(canonical_names[n_canonical_names], p, n);
                canonical_names[n_canonical_names++][n] = '\0';
            }
            p += n;
            if (*p == '|')
                p++;
        }
    }
    qsort(by_name, N_NICKNAMES, sizeof(by_name[0]), compare_entries);
    qsort(canonical_names, n_canonical_names, LATIN_CANONICAL_SIZE,
          compare_names);
}

static const struct nickname *find_nickname(const char *token)
{
    struct nickname key = {token, NULL};
    const struct nickname *pkey = &key;
    const struct nickname *const *hit;

    pthread_once(&index_once, build_index);
    hit = bsearch(&pkey, by_name, N_NICKNAMES, sizeof(by_name[0]),
                  compare_entries);
    return hit != NULL ? *hit : NULL;
}

static bool is_canonical_name(const char *token, size_t len)
{
    if (len >= LATIN_CANONICAL_SIZE)
        return false;
    pthread_once(&index_once, build_index);
    return bsearch(token, canonical_names, n_canonical_names,
                   LATIN_CANONICAL_SIZE, compare_names) != NULL;
}

size_t
latin_nickname_canonical(const char *token,
                         char out[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE])
{
    size_t count = 0;

    out[0][0] = '\0';
    if (token == NULL || token[0] == '\0')
        return 0;

    const struct nickname *hit = find_nickname(token);
    if (hit != NULL) {
        const char *p = hit->canonical;
        while (*p != '\0') {
            size_t n = strcspn(p, "|");
            count = add_canonical(out, count, p, n);
            p += n;
            if (*p == '|')
                p++;
        }
    }

    /* A canonical name such as "robert" is its own canonical form. */
    size_t len = strlen(token);
    if (is_canonical_name(token, len))
        count = add_canonical(out, count, token, len);
    return count;
}

bool latin_nickname_match(const char *a, const char *b)
{
    char ca[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];
    char cb[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];

    if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
        return false;
    if (strcmp(a, b) == 0)
        return true;

    size_t na = latin_nickname_canonical(a, ca);
    size_t nb = latin_nickname_canonical(b, cb);
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (strcmp(ca[i], cb[j]) == 0)
                return true;
        }
    }
    return false;
}

/* Generational suffixes, with how many tokens must come before each. */
static const struct {
    const char *token;
    const char *suffix;
    int min_before;
} suffixes[] = {
    {"jr", "JR", 1}, {"junior", "JR", 1}, {"sr", "SR", 1}, {"senior", "SR", 1},
    {"ii", "II", 1}, {"iii", "III", 1},   {"iv", "IV", 1}, {"v", "V", 2},
};

static int count_tokens(const char *s, size_t len)
{
    int n = 0;
    bool in_token = false;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') {
            in_token = false;
        } else if (!in_token) {
            in_token = true;
            n++;
        }
    }
    return n;
}

size_t latin_name_suffix(const char *folded, char *rest, size_t outlen,
                         char suffix[LATIN_SUFFIX_SIZE])
{
    suffix[0] = '\0';
    if (outlen > 0)
        rest[0] = '\0';
    if (folded == NULL)
        return 0;

    size_t len = strlen(folded);
    while (len > 0 && folded[len - 1] == ' ')
        len--;
    const char *space = memrchr(folded, ' ', len);
    const char *last = space != NULL ? space + 1 : folded;
    size_t last_len = len - (size_t)(last - folded);
    size_t keep = len;

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (strlen(suffixes[i].token) != last_len ||
            memcmp(last, suffixes[i].token, last_len) != 0)
            continue;
        size_t before = (size_t)(last - folded);
        while (before > 0 && folded[before - 1] == ' ')
            before--;
        if (count_tokens(folded, before) < suffixes[i].min_before)
            break;
        keep = before;
        strcpy(suffix, suffixes[i].suffix);
        break;
    }

    if (keep + 1 > outlen) {
        suffix[0] = '\0';
        return 0;
    }
    memcpy(rest, folded, keep);
    rest[keep] = '\0';
    return keep;
}

/*
 * Particles of family names in the languages most often written in Latin
 * script: Dutch, German, French, Spanish, Portuguese, Italian, Arabic and
 * Malay. "d" and "l" are the elided forms (d'angelo, l'estrange) once
 * ecif_norm_name() has turned the apostrophe into a space.
 */
static const char *const particles[] = {
    "af",    "al",    "ap",  "av",  "bin",   "binti", "bint", "d",     "da",
    "dal",   "dalla", "das", "de",  "degli", "dei",   "del",  "della", "delle",
    "dello", "den",   "der", "des", "di",    "do",    "dos",  "du",    "e",
    "el",    "ibn",   "l",   "la",  "le",    "les",   "lo",   "ten",   "ter",
    "van",   "vom",   "von", "y",   "zu",    "zum",
};

/* Prefixes written as separate tokens or not: joined to the next token. */
static const struct {
    const char *token;
    const char *joined;
} prefixes[] = {
    {"mac", "mac"},   {"mc", "mac"},      {"o", "o"},          {"st", "saint"},
    {"ste", "saint"}, {"saint", "saint"}, {"sainte", "saint"},
};

typedef struct token {
    const char *text;
    size_t len;
} token_t;

static bool token_is(token_t t, const char *word)
{
    return strlen(word) == t.len && memcmp(t.text, word, t.len) == 0;
}

static bool is_particle(token_t t)
{
    for (size_t i = 0; i < sizeof(particles) / sizeof(particles[0]); i++) {
        if (token_is(t, particles[i]))
            return true;
    }
    return false;
}

static const char *join_prefix(token_t t)
{
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (token_is(t, prefixes[i].token))
            return prefixes[i].joined;
    }
    return NULL;
}

/* Splits s at spaces into at most max tokens; returns how many. */
static size_t split_tokens(const char *s, token_t *tokens, size_t max)
{
    size_t n = 0;
    const char *p = s;

    while (*p != '\0' && n < max) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, " ");
        tokens[n].text = p;
        tokens[n].len = len;
        n++;
        p += len;
    }
    return n;
}

/*
 * Appends one key token made of prefix (may be "") and body to the key
 * and the parts, when it fits whole.
 */
static void append_key_token(latin_surname_t *out, size_t *n,
                             const char *prefix, token_t body)
{
    size_t plen = strlen(prefix);
    size_t sep = *n > 0 ? 1 : 0;

    if (*n + sep + plen + body.len + 1 > sizeof(out->key))
        return;
    char *start = out->key + *n + sep;
    if (sep)
        out->key[*n] = ' ';
    memcpy(start, prefix, plen);
    memcpy(start + plen, body.text, body.len);
    *n += sep + plen + body.len;
    out->key[*n] = '\0';

    if (out->n_parts < LATIN_SURNAME_MAX_PARTS) {
        memcpy(out->parts[out->n_parts], start, plen + body.len);
        out->parts[out->n_parts][plen + body.len] = '\0';
        out->n_parts++;
    }
}

size_t latin_surname_key(const char *folded_family, latin_surname_t *out)
{
    token_t tokens[ECIF_NORM_MAX / 2];
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    if (folded_family == NULL)
        return 0;
    size_t count =
        split_tokens(folded_family, tokens, sizeof(tokens) / sizeof(tokens[0]));

    /* A particle is dropped only before a token that is not one. */
    size_t last_name = count;
    for (size_t i = count; i > 0; i--) {
        if (!is_particle(tokens[i - 1])) {
            last_name = i - 1;
            break;
        }
    }

    for (size_t i = 0; i < count; i++) {
        token_t t = tokens[i];
        if (last_name < count && i < last_name && is_particle(t))
            continue;

        const char *prefix = join_prefix(t);
        if (prefix != NULL && i + 1 < count) {
            append_key_token(out, &n, prefix, tokens[++i]);
        } else if (prefix != NULL) {
            append_key_token(out, &n, prefix, (token_t){"", 0});
        } else if (t.len > 2 && memcmp(t.text, "mc", 2) == 0) {
            /* mcdonald is written macdonald as well */
            append_key_token(out, &n, "mac", (token_t){t.text + 2, t.len - 2});
        } else {
            append_key_token(out, &n, "", t);
        }
    }
    return n;
}
