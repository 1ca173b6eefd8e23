/*
 * Chinese personal names. Han text is cleaned and mapped to Simplified
 * with the generated Unihan tables (unihan_data.c), split at a compound or
 * single-character surname, and read as toneless pinyin. Romanized names
 * are split into the same syllables. Both meet in an order-free key: the
 * sorted syllables. Every function works in stack buffers of CN_NAME_MAX
 * bytes and writes its result only when the whole result fits.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cn_name.h"
#include "normalize.h"
#include "unihan_data.h"

/* Syllables one name may have; longer names give 0. */
#define MAX_SYLLABLES 64

/* Letters of one romanized word that segmentation reads. */
#define MAX_WORD 64

/*
 * Compound surnames in Simplified form. A name starting with one of these
 * and longer than it splits after it.
 */
static const char *const compound_surnames[] = {
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方",     "皇甫", "尉迟", "公孙",
    "慕容", "长孙", "宇文", "令狐", "夏侯", "轩辕",     "端木", "独孤", "南宫",
    "西门", "闻人", "呼延", "万俟", "澹台", "公冶",     "宗政", "濮阳", "太史",
    "申屠", "钟离", "第五", "百里", "东郭", "公羊",     "赫连", "拓跋", "司空",
    "司寇", "乐正", "鲜于", "闾丘", "子车", "亓官",     "仲孙", "叔孙", "左丘",
    "东门", "梁丘", "公西", "巫马", "漆雕", "壤驷",     "谷梁", "段干", "羊舌",
    "微生", "颛孙", "宰父", "夹谷", "公良", "单于",     "即墨", "达奚", "褚师",
    "太叔", "南门", "东里", "主父", "淳于", "公户",     "公玉", "公仪", "公乘",
    "司城", "宗正", "东宫", "拓拔", "纳兰", "爱新觉罗",
};

/* A surname whose reading as a surname differs from the common reading. */
typedef struct surname_reading {
    const char *surname; /* Simplified form */
    const char *pinyin;  /* toneless syllables separated by spaces */
} surname_reading_t;

static const surname_reading_t surname_readings[] = {
    {"单", "shan"},      {"曾", "zeng"},        {"解", "xie"},
    {"仇", "qiu"},       {"区", "ou"},          {"查", "zha"},
    {"朴", "piao"},      {"盖", "ge"},          {"华", "hua"},
    {"乐", "yue"},       {"覃", "qin"},         {"种", "chong"},
    {"繁", "po"},        {"员", "yun"},         {"召", "shao"},
    {"缪", "miao"},      {"黑", "he"},          {"秘", "bi"},
    {"句", "gou"},       {"翟", "zhai"},        {"阚", "kan"},
    {"折", "she"},       {"都", "du"},          {"乜", "nie"},
    {"粘", "nian"},      {"隗", "wei"},         {"洗", "xian"},
    {"藏", "zang"},      {"能", "nai"},         {"长", "chang"},
    {"尉迟", "yu chi"},  {"万俟", "mo qi"},     {"长孙", "zhang sun"},
    {"单于", "chan yu"}, {"乐正", "yue zheng"}, {"澹台", "tan tai"},
    {"子车", "zi ju"},   {"亓官", "qi guan"},
};

/* A romanized spelling of a surname and its pinyin. */
typedef struct romanized_surname {
    const char *spelling;
    const char *pinyin;
} romanized_surname_t;

/*
 * Cantonese (Hong Kong), Wade-Giles (Taiwan), Hokkien (Singapore,
 * Malaysia) and other spellings of common surnames, sorted by spelling for
 * binary search. Some spellings are pinyin syllables too (chan, chang,
 * chou, kao, kuo, lo, wong). Those replace the syllable wherever it occurs
 * in a romanized name, at a cost that CN_NAMES.md describes.
 */
static const romanized_surname_t romanized_surnames[] = {
    {"au", "ou"},        {"auyeung", "ou yang"}, {"chan", "chen"},
    {"chang", "zhang"},  {"cheuk", "zhuo"},      {"cheung", "zhang"},
    {"chiang", "jiang"}, {"chien", "qian"},      {"chin", "jin"},
    {"chiu", "zhao"},    {"choi", "cai"},        {"chou", "zhou"},
    {"chow", "zhou"},    {"chung", "zhong"},     {"fung", "feng"},
    {"goh", "wu"},       {"ho", "he"},           {"hsiao", "xiao"},
    {"hsieh", "xie"},    {"hsiung", "xiong"},    {"hsu", "xu"},
    {"hsueh", "xue"},    {"hung", "hong"},       {"jung", "rong"},
    {"kao", "gao"},      {"keung", "jiang"},     {"khoo", "qiu"},
    {"ko", "ge"},        {"koh", "xu"},          {"koo", "gu"},
    {"kung", "gong"},    {"kuo", "guo"},         {"kwan", "guan"},
    {"kwok", "guo"},     {"lam", "lin"},         {"lau", "liu"},
    {"lee", "li"},       {"leung", "liang"},     {"lim", "lin"},
    {"lo", "lu"},        {"low", "liu"},         {"lui", "lv"},
    {"luk", "lu"},       {"lyu", "lv"},          {"mak", "mai"},
    {"mok", "mo"},       {"ng", "wu"},           {"nyu", "nv"},
    {"ong", "wang"},     {"poon", "pan"},        {"quek", "guo"},
    {"shek", "shi"},     {"shih", "shi"},        {"siu", "xiao"},
    {"sung", "song"},    {"szeto", "si tu"},     {"tam", "tan"},
    {"tay", "zheng"},    {"teo", "zhang"},       {"tien", "tian"},
    {"tsai", "cai"},     {"tsang", "zeng"},      {"tsao", "cao"},
    {"tse", "xie"},      {"tseng", "zeng"},      {"tsoi", "cai"},
    {"tsou", "zou"},     {"tsui", "xu"},         {"tung", "dong"},
    {"wong", "huang"},   {"yau", "qiu"},         {"yeh", "ye"},
    {"yen", "yan"},      {"yeo", "yang"},        {"yeung", "yang"},
    {"yip", "ye"},       {"yiu", "yao"},         {"yuen", "yuan"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* UTF-8 and output helpers                                            */
/* ------------------------------------------------------------------ */

static size_t utf8_encode(uint32_t cp, char *buf)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A result under construction in a fixed buffer of cap bytes. */
typedef struct text {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow; /* a piece did not fit; the result is unusable */
} text_t;

static void text_init(text_t *t, char *buf, size_t cap)
{
    t->buf = buf;
    t->cap = cap;
    t->len = 0;
    t->overflow = cap == 0;
    if (cap > 0)
        buf[0] = '\0';
}

static void text_append(text_t *t, const char *s, size_t n)
{
    if (t->overflow || t->len + n + 1 > t->cap) {
        t->overflow = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Appends a syllable, preceded by a space unless it is the first. */
static void text_append_word(text_t *t, const char *s, size_t n)
{
    if (t->len > 0)
        text_append(t, " ", 1);
    text_append(t, s, n);
}

/*
 * Copies a finished result to the caller: all of it when it fits outlen,
 * otherwise an empty string. Returns the length copied.
 */
static size_t emit(const text_t *t, char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    if (t->overflow || t->len == 0 || t->len + 1 > outlen) {
        out[0] = '\0';
        return 0;
    }
    memmove(out, t->buf, t->len + 1);
    return t->len;
}

static size_t emit_nothing(char *out, size_t outlen)
{
    if (outlen > 0)
        out[0] = '\0';
    return 0;
}

/* Returns true when in is valid UTF-8 that fits a CN_NAME_MAX buffer. */
static bool input_usable(const char *in, size_t *len)
{
    if (in == NULL)
        return false;
    *len = strnlen(in, CN_NAME_MAX);
    return *len < CN_NAME_MAX && ecif_utf8_valid(in, *len);
}

/* ------------------------------------------------------------------ */
/* Han characters                                                      */
/* ------------------------------------------------------------------ */

static bool is_han(uint32_t cp)
{
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

/*
 * Maps a CJK compatibility ideograph (U+F900 block, U+2F800 block) to its
 * unified ideograph through its canonical decomposition. Others pass.
 */
static uint32_t unify_han(uint32_t cp)
{
    utf8proc_int32_t dst[4];
    utf8proc_ssize_t n;
    int boundclass = 0;

    if (!(cp >= 0xF900 && cp <= 0xFAFF) && !(cp >= 0x2F800 && cp <= 0x2FA1F))
        return cp;
    n = utf8proc_decompose_char((utf8proc_int32_t)cp, dst, 4,
                                UTF8PROC_DECOMPOSE, &boundclass);
    return n == 1 ? (uint32_t)dst[0] : cp;
}

static uint32_t simplify(uint32_t cp)
{
    uint32_t s = unihan_data_simplified(cp);

    return s != 0 ? s : cp;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 ||
           cp == 0x3000;
}

static bool is_ascii_letter(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

/* Returns true for a letter that is not Han (Latin, full-width, other). */
static bool is_other_letter(uint32_t cp)
{
    utf8proc_category_t cat;

    if (cp < 0x80)
        return is_ascii_letter(cp);
    if (is_han(cp))
        return false;
    cat = utf8proc_category((utf8proc_int32_t)cp);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

size_t cn_to_simplified(const char *in, char *out, size_t outlen)
{
    char buf[CN_NAME_MAX];
    text_t t;
    size_t len;

    if (!input_usable(in, &len))
        return emit_nothing(out, outlen);
    text_init(&t, buf, sizeof(buf));
    for (const char *p = in, *end = in + len; p < end;) {
        char enc[4];
        uint32_t cp = simplify(ecif_utf8_next(&p, end));

        text_append(&t, enc, utf8_encode(cp, enc));
    }
    return emit(&t, out, outlen);
}

bool cn_is_han_name(const char *name)
{
    size_t len, han = 0, letter_runs = 0;
    bool in_run = false;

    if (!input_usable(name, &len))
        return false;
    for (const char *p = name, *end = name + len; p < end;) {
        uint32_t cp = ecif_utf8_next(&p, end);
        bool letter = is_other_letter(cp);

        if (is_han(cp))
            han++;
        if (letter && !in_run)
            letter_runs++;
        in_run = letter;
    }
    return han > 0 && han >= letter_runs;
}

size_t cn_name_clean(const char *name, char *out, size_t outlen,
                     cn_name_flags_t *flags)
{
    cn_name_flags_t found = 0;
    char buf[CN_NAME_MAX];
    text_t t;
    size_t len;

    if (flags != NULL)
        *flags = 0;
    if (!cn_is_han_name(name))
        return emit_nothing(out, outlen);
    found |= CN_NAME_HAN;
    len = strlen(name);
    text_init(&t, buf, sizeof(buf));
    for (const char *p = name, *end = name + len; p < end;) {
        uint32_t cp = ecif_utf8_next(&p, end);
        uint32_t simple;
        char enc[4];

        if (is_space(cp))
            continue;
        if (!is_han(cp)) {
            found |= CN_NAME_NOISE;
            continue;
        }
        cp = unify_han(cp);
        simple = simplify(cp);
        if (simple != cp)
            found |= CN_NAME_TRADITIONAL;
        text_append(&t, enc, utf8_encode(simple, enc));
    }
    if (flags != NULL)
        *flags = found;
    return emit(&t, out, outlen);
}

/* ------------------------------------------------------------------ */
/* Surnames                                                            */
/* ------------------------------------------------------------------ */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* First code points of the compound surnames, sorted, built once. */
static uint32_t compound_firsts[COUNT(compound_surnames)];
static size_t compound_firsts_count;
static pthread_once_t compound_firsts_once = PTHREAD_ONCE_INIT;

static int compare_code_points(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static void build_compound_firsts(void)
{
    for (size_t i = 0; i < COUNT(compound_surnames); i++) {
        const char *p = compound_surnames[i];

        compound_firsts[i] = ecif_utf8_next(&p, p + strlen(p));
    }
    qsort(compound_firsts, COUNT(compound_surnames), sizeof(uint32_t),
          compare_code_points);
    compound_firsts_count = COUNT(compound_surnames);
}

/* Returns true when some compound surname starts with the first code
 * point of s, so most names skip the scan of the whole list. */
static bool may_start_compound(const char *s)
{
    const char *p = s;
    uint32_t cp;

    if (*s == '\0')
        return false;
    pthread_once(&compound_firsts_once, build_compound_firsts);
    cp = ecif_utf8_next(&p, s + strnlen(s, 4));
    return bsearch(&cp, compound_firsts, compound_firsts_count,
                   sizeof(uint32_t), compare_code_points) != NULL;
}

/*
 * Returns the byte length of the family name at the start of a cleaned
 * name: a compound surname followed by at least one more character, or
 * the first character.
 */
static size_t family_length(const char *clean)
{
    const char *p = clean, *end = clean + strlen(clean);

    if (may_start_compound(clean)) {
        for (size_t i = 0; i < COUNT(compound_surnames); i++) {
            const char *compound = compound_surnames[i];
            size_t n = strlen(compound);

            if (starts_with(clean, compound) && clean[n] != '\0')
                return n;
        }
    }
    if (p < end)
        ecif_utf8_next(&p, end);
    return (size_t)(p - clean);
}

static const char *surname_pinyin(const char *family, size_t len)
{
    for (size_t i = 0; i < COUNT(surname_readings); i++) {
        const char *s = surname_readings[i].surname;

        if (s[0] == family[0] && strlen(s) == len &&
            memcmp(s, family, len) == 0)
            return surname_readings[i].pinyin;
    }
    return NULL;
}

size_t cn_name_split(const char *name, char *family, size_t family_len,
                     char *given, size_t given_len)
{
    char clean[CN_NAME_MAX];
    size_t n, len = cn_name_clean(name, clean, sizeof(clean), NULL);

    emit_nothing(family, family_len);
    emit_nothing(given, given_len);
    if (len == 0)
        return 0;
    n = family_length(clean);
    if (n + 1 > family_len || len - n + 1 > given_len)
        return 0;
    memcpy(family, clean, n);
    family[n] = '\0';
    memcpy(given, clean + n, len - n + 1);
    return n;
}

/* ------------------------------------------------------------------ */
/* Pinyin of Han names                                                 */
/* ------------------------------------------------------------------ */

/* Appends the first Mandarin reading of each character of s[0..len). */
static bool append_readings(text_t *t, const char *s, size_t len)
{
    for (const char *p = s, *end = s + len; p < end;) {
        int index = unihan_data_reading(ecif_utf8_next(&p, end));
        const char *syllable;

        if (index < 0)
            return false;
        syllable = unihan_data_syllable(index);
        text_append_word(t, syllable, strlen(syllable));
    }
    return true;
}

static size_t han_pinyin(const char *clean, char *out, size_t outlen)
{
    size_t len = strlen(clean), n = family_length(clean);
    const char *reading = surname_pinyin(clean, n);
    char buf[CN_NAME_MAX];
    text_t t;

    text_init(&t, buf, sizeof(buf));
    if (reading != NULL)
        text_append_word(&t, reading, strlen(reading));
    else if (!append_readings(&t, clean, n))
        return emit_nothing(out, outlen);
    if (!append_readings(&t, clean + n, len - n))
        return emit_nothing(out, outlen);
    return emit(&t, out, outlen);
}

/* ------------------------------------------------------------------ */
/* Romanized names                                                     */
/* ------------------------------------------------------------------ */

static int compare_spelling(const void *key, const void *entry)
{
    const romanized_surname_t *e = entry;

    return strcmp(key, e->spelling);
}

static const char *romanized_pinyin(const char *word)
{
    const romanized_surname_t *e =
        bsearch(word, romanized_surnames, COUNT(romanized_surnames),
                sizeof(romanized_surnames[0]), compare_spelling);

    return e != NULL ? e->pinyin : NULL;
}

/* Returns true when s[0..len) is a syllable with a vowel, by search of the
 * whole syllable list. */
static bool segment_syllable_slow(const char *s, size_t len)
{
    if (unihan_data_syllable_find(s, len) < 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (strchr("aeiouv", s[i]) != NULL)
            return true;
    }
    return false;
}

/*
 * The syllables that segment_syllable_slow() accepts, each packed by
 * pack_letters(), in an open-addressing table built once. Syllables are
 * 1 to UNIHAN_DATA_SYLLABLE_MAX lower-case letters, so a packed value is
 * unique and never 0.
 */
#define SYLLABLE_SLOTS 2048
static uint32_t syllable_slots[SYLLABLE_SLOTS];
static pthread_once_t syllable_slots_once = PTHREAD_ONCE_INIT;

/* Packs 1..UNIHAN_DATA_SYLLABLE_MAX letters a-z, 5 bits each; 0 for any
 * other text. */
static uint32_t pack_letters(const char *s, size_t len)
{
    uint32_t packed = 0;

    if (len == 0 || len > UNIHAN_DATA_SYLLABLE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
        packed = (packed << 5) | (uint32_t)(s[i] - 'a' + 1);
    }
    return packed;
}

static size_t syllable_slot(uint32_t packed)
{
    return (size_t)((packed * 2654435761u) >> 21) & (SYLLABLE_SLOTS - 1);
}

static void build_syllable_slots(void)
{
    for (int i = 0; i < UNIHAN_DATA_SYLLABLE_COUNT; i++) {
        const char *syllable = unihan_data_syllable(i);
        size_t len = strlen(syllable);
        uint32_t packed = pack_letters(syllable, len);

        if (packed == 0 || !segment_syllable_slow(syllable, len))
            continue;
        size_t slot = syllable_slot(packed);
        while (syllable_slots[slot] != 0)
            slot = (slot + 1) & (SYLLABLE_SLOTS - 1);
        syllable_slots[slot] = packed;
    }
}

/*
 * Returns true when s[0..len) may be a syllable of a word written without
 * apostrophes: a syllable with a vowel (so m, n, ng, hm and hng, which
 * occur only in interjections, are left out). Text that is not lower-case
 * letters spells no syllable.
 */
static bool segment_syllable(const char *s, size_t len)
{
    uint32_t packed = pack_letters(s, len);

    if (packed == 0)
        return false;
    pthread_once(&syllable_slots_once, build_syllable_slots);
    for (size_t slot = syllable_slot(packed); syllable_slots[slot] != 0;
         slot = (slot + 1) & (SYLLABLE_SLOTS - 1)) {
        if (syllable_slots[slot] == packed)
            return true;
    }
    return false;
}

/*
 * Splits a lower-case word into syllables and appends them to t. The split
 * with the fewest syllables wins ("xian" is one syllable). Among splits of
 * equal count, the one with fewer inner syllables starting with a, e or o
 * wins, because standard pinyin would have put an apostrophe before such
 * a syllable ("fangan" is "fan gan"). Returns false when there is none.
 */
static bool append_segmented(text_t *t, const char *word, size_t len)
{
    unsigned cost[MAX_WORD + 1];
    uint8_t from[MAX_WORD + 1];

    if (len == 0 || len > MAX_WORD)
        return false;
    cost[0] = 0;
    for (size_t i = 1; i <= len; i++) {
        cost[i] = UINT32_MAX;
        for (size_t j = i > UNIHAN_DATA_SYLLABLE_MAX
                            ? i - UNIHAN_DATA_SYLLABLE_MAX
                            : 0;
             j < i; j++) {
            unsigned c;

            if (cost[j] == UINT32_MAX || !segment_syllable(word + j, i - j))
                continue;
            /* syllables weigh 16, an inner vowel start 1 */
            c = cost[j] + 16 + (j > 0 && strchr("aeo", word[j]) != NULL);
            if (c < cost[i]) {
                cost[i] = c;
                from[i] = (uint8_t)j;
            }
        }
    }
    if (cost[len] == UINT32_MAX)
        return false;

    size_t bounds[MAX_WORD + 1], n = 0;

    for (size_t i = len; i > 0; i = from[i])
        bounds[n++] = i;
    for (size_t k = n, start = 0; k > 0; k--) {
        text_append_word(t, word + start, bounds[k - 1] - start);
        start = bounds[k - 1];
    }
    return true;
}

/*
 * Rewrites "lyu", the spelling of lü in passports and other documents
 * that cannot write ü, as "lv". No pinyin syllable ends in l, so "lyu"
 * inside a joined word ("lyuzhigang") is always that syllable. "nyu" is
 * left alone: "xinyu" is xin yu. Returns the new length.
 */
static size_t passport_lv(char *word, size_t len)
{
    size_t out = 0;

    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && word[i] == 'l' && word[i + 1] == 'y' &&
            word[i + 2] == 'u') {
            word[out++] = 'l';
            word[out++] = 'v';
            i += 2;
            continue;
        }
        word[out++] = word[i];
    }
    word[out] = '\0';
    return out;
}

/*
 * Reads each word of a romanized name as syllables in written order.
 * Words are runs of ASCII letters, split by spaces, apostrophes, hyphens,
 * commas and dots. With surnames set, romanized surname spellings are
 * mapped to pinyin. Returns false for any other character or a word that
 * does not split.
 */
static bool latin_syllables(const char *in, bool surnames, text_t *t)
{
    char word[MAX_WORD + 1];
    size_t n = 0;

    for (const char *p = in;; p++) {
        unsigned char c = (unsigned char)*p;

        if (is_ascii_letter(c)) {
            if (n == MAX_WORD)
                return false;
            word[n++] = (char)(c | 0x20);
            continue;
        }
        if (c != '\0' && strchr(" '-,.", c) == NULL)
            return false;
        if (n > 0) {
            const char *mapped;

            word[n] = '\0';
            n = passport_lv(word, n);
            mapped = surnames ? romanized_pinyin(word) : NULL;
            if (mapped != NULL)
                text_append_word(t, mapped, strlen(mapped));
            else if (!append_segmented(t, word, n))
                return false;
            n = 0;
        }
        if (c == '\0')
            return true;
    }
}

/*
 * Replaces syllables that are themselves romanized surname spellings
 * (chan, chang, chou, kao, kuo, lo, wong) so that reading a result again
 * changes nothing.
 */
static void map_surname_syllables(const char *in, text_t *t)
{
    const char *p = in;

    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        char word[MAX_WORD + 1];
        const char *mapped = NULL;

        if (n <= MAX_WORD) {
            memcpy(word, p, n);
            word[n] = '\0';
            mapped = romanized_pinyin(word);
        }
        if (mapped != NULL)
            text_append_word(t, mapped, strlen(mapped));
        else
            text_append_word(t, p, n);
        p += n;
        while (*p == ' ')
            p++;
    }
}

static int compare_words(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes the space-separated words of in, sorted, to out. */
static size_t sort_words(const char *in, char *out, size_t outlen)
{
    char copy[CN_NAME_MAX], buf[CN_NAME_MAX];
    const char *words[MAX_SYLLABLES];
    size_t n = 0, len = strlen(in);
    text_t t;

    if (len + 1 > sizeof(copy))
        return emit_nothing(out, outlen);
    memcpy(copy, in, len + 1);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save)) {
        if (n == MAX_SYLLABLES)
            return emit_nothing(out, outlen);
        words[n++] = w;
    }
    qsort(words, n, sizeof(words[0]), compare_words);
    text_init(&t, buf, sizeof(buf));
    for (size_t i = 0; i < n; i++)
        text_append_word(&t, words[i], strlen(words[i]));
    return emit(&t, out, outlen);
}

size_t cn_latin_name_pinyin(const char *folded, char *out, size_t outlen)
{
    char first[CN_NAME_MAX], mapped[CN_NAME_MAX];
    text_t t;
    size_t len;

    if (!input_usable(folded, &len))
        return emit_nothing(out, outlen);
    text_init(&t, first, sizeof(first));
    if (!latin_syllables(folded, true, &t) || t.overflow || t.len == 0)
        return emit_nothing(out, outlen);
    text_init(&t, mapped, sizeof(mapped));
    map_surname_syllables(first, &t);
    if (t.overflow)
        return emit_nothing(out, outlen);
    return sort_words(mapped, out, outlen);
}

size_t cn_name_pinyin(const char *name, char *out, size_t outlen)
{
    char buf[CN_NAME_MAX];
    text_t t;

    if (cn_is_han_name(name)) {
        if (cn_name_clean(name, buf, sizeof(buf), NULL) == 0)
            return emit_nothing(out, outlen);
        return han_pinyin(buf, out, outlen);
    }
    if (ecif_norm_name(name, buf, sizeof(buf)) == 0)
        return emit_nothing(out, outlen);

    char syllables[CN_NAME_MAX];

    text_init(&t, syllables, sizeof(syllables));
    if (!latin_syllables(buf, false, &t))
        return emit_nothing(out, outlen);
    return emit(&t, out, outlen);
}

/* ------------------------------------------------------------------ */
/* Fuzzy pinyin                                                        */
/* ------------------------------------------------------------------ */

/*
 * Merges one syllable (lower-case letters, len <= MAX_WORD) into buf and
 * returns its length. The rules run in this order, and none creates the
 * input of an earlier one, so merging twice equals merging once.
 */
static size_t fuzzy_syllable(const char *s, size_t len, char *buf)
{
    size_t n = 0, i = 0;

    if (len >= 2 && (s[0] == 'z' || s[0] == 'c' || s[0] == 's') &&
        s[1] == 'h') {
        buf[n++] = s[0]; /* zh, ch, sh -> z, c, s */
        i = 2;
    } else if (len >= 2 && s[0] == 'n' && strchr("aeiouv", s[1]) != NULL) {
        buf[n++] = 'l';
        i = 1;
    } else if (len >= 2 && s[0] == 'h' && s[1] == 'u') {
        buf[n++] = 'f';
        i = 1;
    }
    for (; i < len; i++)
        buf[n++] = s[i] == 'v' ? 'u' : s[i];
    if (n >= 3 && buf[n - 1] == 'g' && buf[n - 2] == 'n' &&
        strchr("aei", buf[n - 3]) != NULL)
        n--; /* ang, eng, ing -> an, en, in */
    return n;
}

size_t cn_pinyin_fuzzy(const char *pinyin, char *out, size_t outlen)
{
    char buf[CN_NAME_MAX];
    text_t t;
    size_t len;

    if (!input_usable(pinyin, &len))
        return emit_nothing(out, outlen);
    text_init(&t, buf, sizeof(buf));
    for (const char *p = pinyin; *p != '\0';) {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
        char merged[MAX_WORD];

        if (n == 0 || n > MAX_WORD || (p[n] != ' ' && p[n] != '\0'))
            return emit_nothing(out, outlen);
        text_append_word(&t, merged, fuzzy_syllable(p, n, merged));
        p += n;
        while (*p == ' ')
            p++;
    }
    return emit(&t, out, outlen);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

size_t cn_name_key(const char *name, char *out, size_t outlen)
{
    char buf[CN_NAME_MAX], pinyin[CN_NAME_MAX];

    if (cn_is_han_name(name)) {
        if (cn_name_pinyin(name, pinyin, sizeof(pinyin)) == 0)
            return emit_nothing(out, outlen);
        return sort_words(pinyin, out, outlen);
    }
    if (ecif_norm_name(name, buf, sizeof(buf)) == 0)
        return emit_nothing(out, outlen);
    return cn_latin_name_pinyin(buf, out, outlen);
}

size_t cn_name_key_fuzzy(const char *name, char *out, size_t outlen)
{
    char key[CN_NAME_MAX];

    if (cn_name_key(name, key, sizeof(key)) == 0)
        return emit_nothing(out, outlen);
    return cn_key_fuzzy(key, out, outlen);
}

size_t cn_key_fuzzy(const char *key, char *out, size_t outlen)
{
    char merged[CN_NAME_MAX];

    if (cn_pinyin_fuzzy(key, merged, sizeof(merged)) == 0)
        return emit_nothing(out, outlen);
    return sort_words(merged, out, outlen);
}

size_t cn_name_clean_keys(const char *clean, cn_name_keys_t *keys)
{
    char pinyin[CN_NAME_MAX];
    size_t len = strnlen(clean, CN_NAME_MAX);
    size_t n;

    keys->family[0] = keys->given[0] = '\0';
    keys->key[0] = keys->key_fuzzy[0] = '\0';
    if (len == 0 || len >= CN_NAME_MAX)
        return 0;
    n = family_length(clean);
    memcpy(keys->family, clean, n);
    keys->family[n] = '\0';
    memcpy(keys->given, clean + n, len - n + 1);
    if (han_pinyin(clean, pinyin, sizeof(pinyin)) > 0 &&
        sort_words(pinyin, keys->key, sizeof(keys->key)) > 0)
        cn_key_fuzzy(keys->key, keys->key_fuzzy, sizeof(keys->key_fuzzy));
    return n;
}
