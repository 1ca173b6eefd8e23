/*
 * Chinese address parsing. The text is first reduced to letters, digits,
 * Han characters and '-', then divisions are matched level by level at the
 * start: each level is searched among the children of the division found
 * above it, or among a wider range when a level was skipped, and a match
 * counts only when it is the single longest one. Numbers with a unit word
 * are then taken out of the remainder, which becomes the detail.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cn_address.h"
#include "division_data.h"
#include "hash.h"
#include "status.h"

/* Bytes of the working copy: any input that record validation admits. */
#define CN_WORK_MAX 1024

/* Seed of the bigram hashes; the signatures are compared across records,
 * so changing it changes every stored signature. */
#define CN_QGRAM_SEED 0x636e71676dULL

/* Cities that only group districts or county-level units. */
static bool is_grouping_city(const char *name)
{
    return strcmp(name, "市辖区") == 0 ||
           strcmp(name, "省直辖县级行政区划") == 0 ||
           strcmp(name, "自治区直辖县级行政区划") == 0;
}

static uint32_t fold_full_width(uint32_t cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        return cp - 0xFEE0;
    if (cp == 0x3000)
        return ' ';
    return cp;
}

static bool is_dropped(uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
                 cp == '-');
    return (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
           cp == 0xB7 || cp == 0xFF65;
}

static size_t encode(uint32_t cp, char *buf)
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

/* Writes the reduced form of text; stops at a whole code point. */
static void reduce(const char *text, char *work, size_t cap)
{
    const char *p = text;
    const char *end = text + strlen(text);
    size_t n = 0;

    while (p < end) {
        uint32_t cp = fold_full_width(ecif_utf8_next(&p, end));
        char buf[4];
        size_t len;

        if (cp >= 'A' && cp <= 'Z')
            cp |= 0x20;
        if (is_dropped(cp))
            continue;
        len = encode(cp, buf);
        if (n + len + 1 > cap)
            break;
        memcpy(work + n, buf, len);
        n += len;
    }
    work[n] = '\0';
}

/* Words that make a preceding short name part of a street or place name:
 * 朝阳路 is a road, not 朝阳区. */
static bool starts_place_word(const char *s)
{
    static const char *const words[] = {
        "路", "街",   "道",   "巷",   "弄",   "胡同", "里",   "门",   "桥",
        "村", "大街", "大道", "大厦", "大学", "小区", "公园", "广场",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strncmp(s, words[i], strlen(words[i])) == 0)
            return true;
    return false;
}

/* Bytes of s matched by a division name, 0 for none. */
static size_t match_name(uint32_t name, uint32_t short_len, const char *s)
{
    const char *full = division_names + name;
    size_t len = strlen(full);

    if (is_grouping_city(full))
        return 0;
    if (strncmp(s, full, len) == 0)
        return len;
    if (short_len > 0 && strncmp(s, full, short_len) == 0 &&
        !starts_place_word(s + short_len))
        return short_len;
    return 0;
}

/* Tracks the longest match in a range; a tie at that length is ambiguous. */
struct best_match {
    long index;
    size_t len;
    bool tied;
};

static void consider(struct best_match *best, long index, size_t len)
{
    if (len == 0 || len < best->len)
        return;
    if (len == best->len) {
        best->tied = true;
        return;
    }
    best->index = index;
    best->len = len;
    best->tied = false;
}

/* The division levels, coarsest first. */
enum cn_level {
    LEVEL_PROVINCES,
    LEVEL_CITIES,
    LEVEL_AREAS,
    LEVEL_STREETS,
    LEVEL_COUNT,
};

static uint32_t level_count(enum cn_level level)
{
    switch (level) {
    case LEVEL_PROVINCES:
        return division_provinces_count;
    case LEVEL_CITIES:
        return division_cities_count;
    case LEVEL_AREAS:
        return division_areas_count;
    default:
        return division_streets_count;
    }
}

/* Returns the name offset and the short prefix length of entry i. */
static void level_entry(enum cn_level level, uint32_t i, uint32_t *name,
                        uint32_t *short_len)
{
    const struct division *d = NULL;

    switch (level) {
    case LEVEL_PROVINCES:
        d = &division_provinces[i];
        break;
    case LEVEL_CITIES:
        d = &division_cities[i];
        break;
    case LEVEL_AREAS:
        d = &division_areas[i];
        break;
    default:
        *name = division_streets[i].name;
        *short_len = division_streets[i].short_len;
        return;
    }
    *name = d->name;
    *short_len = d->short_len;
}

/*
 * Index of one level: a name can only match text that starts with the
 * name's first code point, because a match covers the whole name or its
 * short prefix, and every short prefix is at least that code point long.
 * keys contains (first code point << 32 | entry index) of every entry that
 * can match at all, sorted, so the entries of a range that start with a
 * given code point are one binary search away. keys is NULL when the
 * table breaks that rule or memory ran out, and the whole range is then
 * scanned.
 */
struct level_index {
    uint64_t *keys;
    uint32_t count;
};

static struct level_index level_indexes[LEVEL_COUNT];
static pthread_once_t level_indexes_once = PTHREAD_ONCE_INIT;

static int compare_keys(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void build_level_index(enum cn_level level)
{
    struct level_index *index = &level_indexes[level];
    uint32_t count = level_count(level);
    uint64_t *keys = malloc((count > 0 ? count : 1) * sizeof(*keys));
    uint32_t n = 0;

    if (keys == NULL)
        return;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t name, short_len;
        level_entry(level, i, &name, &short_len);

        const char *full = division_names + name;
        const char *p = full;
        size_t len = strlen(full);
        if (len == 0 || is_grouping_city(full))
            continue; /* match_name never matches these */
        uint32_t cp = ecif_utf8_next(&p, full + len);
        if (cp == 0xFFFD || (short_len > 0 && short_len < (size_t)(p - full))) {
            free(keys);
            return;
        }
        keys[n++] = (uint64_t)cp << 32 | i;
    }
    qsort(keys, n, sizeof(*keys), compare_keys);
    index->keys = keys;
    index->count = n;
}

static void build_level_indexes(void)
{
    for (int level = 0; level < LEVEL_COUNT; level++)
        build_level_index((enum cn_level)level);
}

/* Returns the position of the first key not below key. */
static uint32_t lower_bound(const struct level_index *index, uint64_t key)
{
    uint32_t lo = 0, hi = index->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (index->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Finds the entry of [begin, end) of a level with the single longest
 * match at the start of s. Returns its index and sets *len, or returns -1
 * when none matches or the longest is tied.
 */
static long match_level(enum cn_level level, uint32_t begin, uint32_t end,
                        const char *s, size_t *len)
{
    const struct level_index *index = &level_indexes[level];
    struct best_match best = {-1, 0, false};
    uint32_t name, short_len;

    pthread_once(&level_indexes_once, build_level_indexes);
    if (index->keys == NULL) {
        for (uint32_t i = begin; i < end; i++) {
            level_entry(level, i, &name, &short_len);
            consider(&best, i, match_name(name, short_len, s));
        }
    } else if (*s != '\0') {
        const char *p = s;
        uint64_t cp = ecif_utf8_next(&p, s + strnlen(s, 4));
        uint64_t last = cp << 32 | end;

        for (uint32_t k = lower_bound(index, cp << 32 | begin);
             k < index->count && index->keys[k] < last; k++) {
            uint32_t i = (uint32_t)index->keys[k];
            level_entry(level, i, &name, &short_len);
            consider(&best, i, match_name(name, short_len, s));
        }
    }
    if (best.index < 0 || best.tied)
        return -1;
    *len = best.len;
    return best.index;
}

static long match_towns(const struct division *area, const char *s, size_t *len)
{
    return match_level(LEVEL_STREETS, area->first_child,
                       area->first_child + area->child_count, s, len);
}

static long find_code(const struct division *level, uint32_t count,
                      uint32_t code)
{
    uint32_t lo = 0, hi = count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (level[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && level[lo].code == code ? (long)lo : -1;
}

/* Indices of the divisions found so far, -1 where not found. */
struct cn_found {
    long province;
    long city;
    long area;
    long town;
};

/* Areas of every city of a province, which are contiguous. */
static void province_area_range(long province, uint32_t *begin, uint32_t *end)
{
    const struct division *p = &division_provinces[province];
    const struct division *first = &division_cities[p->first_child];
    const struct division *last =
        &division_cities[p->first_child + p->child_count - 1];

    *begin = first->first_child;
    *end = last->first_child + last->child_count;
}

static const char *match_city(struct cn_found *f, const char *s)
{
    size_t len = 0;

    if (f->province < 0) {
        f->city = match_level(LEVEL_CITIES, 0, division_cities_count, s, &len);
        if (f->city >= 0)
            f->province =
                find_code(division_provinces, division_provinces_count,
                          division_cities[f->city].code / 100);
        return s + len;
    }

    const struct division *p = &division_provinces[f->province];
    f->city = match_level(LEVEL_CITIES, p->first_child,
                          p->first_child + p->child_count, s, &len);
    if (f->city < 0 && p->child_count == 1)
        f->city = p->first_child; /* a municipality's only 市辖区 */
    return s + len;
}

static const char *match_area(struct cn_found *f, const char *s)
{
    size_t len = 0;
    uint32_t begin = 0, end = division_areas_count;

    if (f->city >= 0) {
        const struct division *c = &division_cities[f->city];
        f->area = match_level(LEVEL_AREAS, c->first_child,
                              c->first_child + c->child_count, s, &len);
        if (f->area >= 0)
            return s + len;
    }
    if (f->province >= 0)
        province_area_range(f->province, &begin, &end);
    f->area = match_level(LEVEL_AREAS, begin, end, s, &len);
    if (f->area < 0)
        return s;

    uint32_t code = division_areas[f->area].code;
    f->city = find_code(division_cities, division_cities_count, code / 100);
    f->province =
        find_code(division_provinces, division_provinces_count, code / 10000);
    return s + len;
}

static void set_divisions(const struct cn_found *f, struct cn_address *out)
{
    if (f->province >= 0) {
        const struct division *p = &division_provinces[f->province];
        out->province_code = p->code;
        out->province = division_names + p->name;
    }
    if (f->city >= 0) {
        const struct division *c = &division_cities[f->city];
        const char *name = division_names + c->name;
        if (strcmp(name, "市辖区") == 0) {
            out->city_code = c->code;
            out->city = out->province;
        } else if (!is_grouping_city(name)) {
            out->city_code = c->code;
            out->city = name;
        }
    }
    if (f->area >= 0) {
        out->district_code = division_areas[f->area].code;
        out->district = division_names + division_areas[f->area].name;
    }
    if (f->town >= 0) {
        out->town_code = division_streets[f->town].code;
        out->town = division_names + division_streets[f->town].name;
    }
}

/* Value of a Chinese numeral character, -1 for none; 十 and 百 are -10
 * and -100. */
static int cn_digit(uint32_t cp)
{
    static const uint32_t digits[] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                      0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D};

    for (int i = 0; i < 10; i++)
        if (cp == digits[i])
            return i;
    if (cp == 0x96F6) /* 零 */
        return 0;
    if (cp == 0x4E24) /* 两 */
        return 2;
    if (cp == 0x5341) /* 十 */
        return -10;
    if (cp == 0x767E) /* 百 */
        return -100;
    return -1;
}

/* Reads ASCII digits (at most 9) or a Chinese numeral below 1000 at s.
 * Returns the bytes read, 0 when there is no number. */
static size_t read_number(const char *s, uint32_t *value)
{
    size_t n = 0;

    if (s[0] >= '0' && s[0] <= '9') {
        uint32_t v = 0;
        while (s[n] >= '0' && s[n] <= '9') {
            if (n == 9)
                return 0;
            v = v * 10 + (uint32_t)(s[n] - '0');
            n++;
        }
        *value = v;
        return n;
    }

    const char *p = s;
    const char *end = s + strlen(s);
    uint32_t total = 0, current = 0;
    while (p < end) {
        const char *q = p;
        int d = cn_digit(ecif_utf8_next(&q, end));
        if (d == -1)
            break;
        if (d < 0) {
            total += (current ? current : 1) * (uint32_t)(-d);
            current = 0;
        } else {
            current = current * 10 + (uint32_t)d;
        }
        if (total + current >= 1000)
            return 0;
        p = q;
    }
    *value = total + current;
    return (size_t)(p - s);
}

/* Unit words after a number, longest first, and the field each fills. */
enum cn_field { CN_HOUSE, CN_BUILDING, CN_UNIT, CN_FLOOR, CN_ROOM };

static const struct {
    const char *word;
    enum cn_field field;
} cn_units[] = {
    {"号楼", CN_BUILDING}, {"号院", CN_HOUSE},  {"单元", CN_UNIT},
    {"栋", CN_BUILDING},   {"幢", CN_BUILDING}, {"座", CN_BUILDING},
    {"室", CN_ROOM},       {"户", CN_ROOM},     {"层", CN_FLOOR},
    {"楼", CN_FLOOR},      {"号", CN_HOUSE},
};

static uint32_t *field_of(struct cn_address *out, enum cn_field field)
{
    switch (field) {
    case CN_HOUSE:
        return &out->house_number;
    case CN_BUILDING:
        return &out->building;
    case CN_UNIT:
        return &out->unit;
    case CN_FLOOR:
        return &out->floor;
    case CN_ROOM:
        return &out->room;
    }
    return &out->house_number;
}

/* Takes "number + unit word" at s into out; returns the bytes taken. */
static size_t take_numbered(const char *s, struct cn_address *out)
{
    uint32_t value;
    size_t n = read_number(s, &value);

    if (n == 0 || value == 0)
        return 0;
    for (size_t i = 0; i < sizeof(cn_units) / sizeof(cn_units[0]); i++) {
        size_t wlen = strlen(cn_units[i].word);
        if (strncmp(s + n, cn_units[i].word, wlen) != 0)
            continue;
        uint32_t *field = field_of(out, cn_units[i].field);
        if (*field != 0)
            return 0; /* a second value stays in the detail */
        *field = value;
        return n + wlen;
    }
    return 0;
}

/* Takes a trailing "building-unit-room" such as 12-3-502. */
static size_t take_dashed(const char *s, struct cn_address *out)
{
    uint32_t v[3];
    size_t n = 0;

    if (out->building || out->unit || out->room)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (i > 0 && s[n++] != '-')
            return 0;
        if (s[n] < '0' || s[n] > '9')
            return 0;
        size_t len = read_number(s + n, &v[i]);
        if (len == 0)
            return 0;
        n += len;
    }
    if (strncmp(s + n, "室", strlen("室")) == 0)
        n += strlen("室");
    if (s[n] != '\0')
        return 0;
    out->building = v[0];
    out->unit = v[1];
    out->room = v[2];
    return n;
}

static void extract_numbers(const char *s, struct cn_address *out)
{
    const char *end = s + strlen(s);
    size_t n = 0;

    while (s < end) {
        size_t taken = take_dashed(s, out);
        if (taken == 0)
            taken = take_numbered(s, out);
        if (taken > 0) {
            s += taken;
            continue;
        }

        /* Copy a whole digit run, so 1203 never yields 203号. */
        const char *q = s;
        if (*s >= '0' && *s <= '9') {
            while (q < end && *q >= '0' && *q <= '9')
                q++;
        } else {
            ecif_utf8_next(&q, end);
        }
        size_t len = (size_t)(q - s);
        if (n + len + 1 > sizeof(out->detail))
            break;
        memcpy(out->detail + n, s, len);
        n += len;
        s = q;
    }
    out->detail[n] = '\0';
}

int cn_address_parse(const char *text, struct cn_address *out)
{
    char work[CN_WORK_MAX];
    struct cn_found found = {-1, -1, -1, -1};
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    out->province = out->city = out->district = out->town = "";
    if (text == NULL || !ecif_utf8_valid(text, strlen(text)))
        return ECIF_EINVAL;
    reduce(text, work, sizeof(work));

    const char *s = work;
    found.province =
        match_level(LEVEL_PROVINCES, 0, division_provinces_count, s, &len);
    if (found.province >= 0)
        s += len;
    s = match_city(&found, s);
    s = match_area(&found, s);
    if (found.area >= 0) {
        found.town = match_towns(&division_areas[found.area], s, &len);
        if (found.town >= 0)
            s += len;
    }
    set_divisions(&found, out);
    extract_numbers(s, out);
    return ECIF_OK;
}

static void sort_hashes(uint64_t *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = h[i];
        size_t j = i;
        while (j > 0 && h[j - 1] > v) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = v;
    }
}

size_t cn_address_qgrams(const char *detail, uint64_t *hashes, size_t max)
{
    const char *starts[ECIF_NORM_MAX + 1];
    uint64_t all[ECIF_NORM_MAX];
    size_t nchars = 0, nhash = 0, kept = 0;

    if (detail == NULL || max == 0)
        return 0;
    const char *p = detail;
    const char *end = detail + strnlen(detail, ECIF_NORM_MAX - 1);
    while (p < end && nchars < ECIF_NORM_MAX) {
        starts[nchars++] = p;
        ecif_utf8_next(&p, end);
    }
    starts[nchars] = p;
    if (nchars == 1)
        all[nhash++] =
            ecif_hash64(starts[0], (size_t)(p - starts[0]), CN_QGRAM_SEED);
    for (size_t i = 0; i + 1 < nchars; i++)
        all[nhash++] = ecif_hash64(
            starts[i], (size_t)(starts[i + 2] - starts[i]), CN_QGRAM_SEED);

    sort_hashes(all, nhash);
    for (size_t i = 0; i < nhash && kept < max; i++)
        if (i == 0 || all[i] != all[i - 1])
            hashes[kept++] = all[i];
    return kept;
}
