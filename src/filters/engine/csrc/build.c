/* build(): the table part of snapshot.compile_snapshot in C, byte for byte the same.
 *
 * As the Python code does: rules are grouped by host in the order hosts first appear; a host's
 * rules with the same (scope, action, source, path) are one, their category masks OR-ed; a
 * host's rules form its ruleset (sorted as Python sorts the tuples when there are several), and
 * equal rulesets get one index, in the order they first appear. Keys are then sorted stably
 * (a counting sort on the bucket bits gives the bucket array on the way), and two hosts with
 * the same 64-bit key are refused with the message Python gives.
 */
#include "native.h"
#include "xxh64.h"

typedef struct {
    uint64_t key;
    PyObject *host;
    const char *utf8;
    Py_ssize_t len;
    uint32_t first, last; /* its entries: a chain of entry indices + 1 */
    uint32_t nentries;
} Host;

typedef struct {
    uint64_t mask;
    uint32_t next; /* the host's next entry, index + 1 */
    uint32_t host, source, path;
    uint8_t scope, action;
} Entry;

/* Past this many entries a host's entries are found through a hash index, not its chain. */
#define CHAIN_MAX 8

typedef struct {
    Host *hosts;
    size_t nhosts, cap_hosts;
    uint64_t *host_slots; /* host index + 1, and the key's top half as a tag; 0 is empty */
    size_t nhost_slots;
    Entry *entries;
    size_t nentries, cap_entries;
    uint32_t *entry_slots; /* entries of hosts past CHAIN_MAX */
    size_t nentry_slots, nindexed;
    PyObject *paths;    /* path str by id; id 0 is "" */
    PyObject *path_ids; /* path str -> id */
} Builder;

static void builder_free(Builder *b) {
    for (size_t i = 0; i < b->nhosts; i++) Py_DECREF(b->hosts[i].host);
    PyMem_Free(b->hosts);
    PyMem_Free(b->host_slots);
    PyMem_Free(b->entries);
    PyMem_Free(b->entry_slots);
    Py_XDECREF(b->paths);
    Py_XDECREF(b->path_ids);
}

static int grow(void **array, size_t *capacity, size_t size) {
    size_t cap = *capacity ? *capacity * 2 : 1024;
    void *bigger = PyMem_Realloc(*array, cap * size);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = bigger;
    *capacity = cap;
    return 0;
}

/* --- hosts -------------------------------------------------------------------------------- */

#define TAG(key) ((key) & 0xFFFFFFFF00000000ULL)

static int rehash_hosts(Builder *b, size_t want) {
    size_t n = b->nhost_slots ? b->nhost_slots : 4096;
    while (n < want * 2) n *= 2;
    if (n == b->nhost_slots) return 0;
    uint64_t *slots = PyMem_Calloc(n, sizeof(uint64_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < b->nhosts; i++) {
        size_t at = b->hosts[i].key & (n - 1);
        while (slots[at]) at = (at + 1) & (n - 1);
        slots[at] = TAG(b->hosts[i].key) | (i + 1);
    }
    PyMem_Free(b->host_slots);
    b->host_slots = slots;
    b->nhost_slots = n;
    return 0;
}

/* The index of host (a str whose UTF-8 is utf8[0:len] and key is key), added if new; -1 with an
 * exception. Hosts are equal when their UTF-8 is, as the dict of Python's compile_snapshot
 * compares them; there is room for the host (rehash_hosts was called for it). */
static Py_ssize_t host_index(Builder *b, PyObject *host, const char *utf8, Py_ssize_t len,
                             uint64_t key) {
    size_t at = key & (b->nhost_slots - 1);
    while (b->host_slots[at]) {
        uint64_t slot = b->host_slots[at];
        if (TAG(slot) == TAG(key)) {
            Host *h = &b->hosts[(slot & 0xFFFFFFFFULL) - 1];
            if (h->key == key && h->len == len && memcmp(h->utf8, utf8, (size_t)len) == 0)
                return (Py_ssize_t)(slot & 0xFFFFFFFFULL) - 1;
        }
        at = (at + 1) & (b->nhost_slots - 1);
    }
    if (b->nhosts == b->cap_hosts && grow((void **)&b->hosts, &b->cap_hosts, sizeof(Host)) < 0)
        return -1;
    Host *h = &b->hosts[b->nhosts];
    h->key = key;
    Py_INCREF(host);
    h->host = host;
    h->utf8 = utf8;
    h->len = len;
    h->first = h->last = 0;
    h->nentries = 0;
    b->host_slots[at] = TAG(key) | (uint64_t)(++b->nhosts);
    return (Py_ssize_t)b->nhosts - 1;
}

static Py_ssize_t path_id(Builder *b, PyObject *path) {
    if (!PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_TypeError, "a rule's path is a str");
        return -1;
    }
    if (PyUnicode_GET_LENGTH(path) == 0) return 0;
    PyObject *known = PyDict_GetItemWithError(b->path_ids, path);
    if (known != NULL) return PyLong_AsSsize_t(known);
    if (PyErr_Occurred()) return -1;
    Py_ssize_t id = PyList_GET_SIZE(b->paths);
    PyObject *number = PyLong_FromSsize_t(id);
    if (number == NULL) return -1;
    int status = PyDict_SetItem(b->path_ids, path, number);
    Py_DECREF(number);
    if (status < 0 || PyList_Append(b->paths, path) < 0) return -1;
    return id;
}

/* --- entries ------------------------------------------------------------------------------ */

static inline size_t entry_hash(uint32_t host, int scope, int action, uint32_t source,
                                uint32_t path) {
    uint64_t h = ((uint64_t)host << 32 | source) * 0x9E3779B97F4A7C15ULL;
    h ^= ((uint64_t)path << 8 | (uint64_t)(scope << 1 | action)) * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h ^ (h >> 29));
}

static inline int entry_is(const Entry *e, int scope, int action, uint32_t source, uint32_t path) {
    return e->scope == scope && e->action == action && e->source == source && e->path == path;
}

static inline size_t entry_slot(const Builder *b, const Entry *e) {
    return entry_hash(e->host, e->scope, e->action, e->source, e->path) & (b->nentry_slots - 1);
}

/* Room in the entry index for more entries. */
static int index_reserve(Builder *b, size_t more) {
    size_t want = (b->nindexed + more) * 2;
    if (want <= b->nentry_slots) return 0;
    size_t n = b->nentry_slots ? b->nentry_slots : 1024;
    while (n < want) n *= 2;
    uint32_t *old = b->entry_slots;
    size_t nold = b->nentry_slots;
    b->entry_slots = PyMem_Calloc(n, sizeof(uint32_t));
    if (b->entry_slots == NULL) {
        b->entry_slots = old;
        PyErr_NoMemory();
        return -1;
    }
    b->nentry_slots = n;
    for (size_t i = 0; i < nold; i++) {
        if (!old[i]) continue;
        size_t at = entry_slot(b, &b->entries[old[i] - 1]);
        while (b->entry_slots[at]) at = (at + 1) & (n - 1);
        b->entry_slots[at] = old[i];
    }
    PyMem_Free(old);
    return 0;
}

/* Index an entry (index_reserve made room for it). */
static void index_entry(Builder *b, uint32_t index) {
    size_t at = entry_slot(b, &b->entries[index]);
    while (b->entry_slots[at]) at = (at + 1) & (b->nentry_slots - 1);
    b->entry_slots[at] = index + 1;
    b->nindexed++;
}

/* The entry (host, scope, action, source, path), 0-based, or -1 if the host has none such. */
static Py_ssize_t find_entry(const Builder *b, uint32_t host, int scope, int action,
                             uint32_t source, uint32_t path) {
    const Host *h = &b->hosts[host];
    if (h->nentries <= CHAIN_MAX) {
        for (uint32_t e = h->first; e; e = b->entries[e - 1].next)
            if (entry_is(&b->entries[e - 1], scope, action, source, path)) return e - 1;
        return -1;
    }
    size_t at = entry_hash(host, scope, action, source, path) & (b->nentry_slots - 1);
    while (b->entry_slots[at]) {
        const Entry *e = &b->entries[b->entry_slots[at] - 1];
        if (e->host == host && entry_is(e, scope, action, source, path))
            return b->entry_slots[at] - 1;
        at = (at + 1) & (b->nentry_slots - 1);
    }
    return -1;
}

static int add_entry(Builder *b, uint32_t host, int scope, int action, uint32_t source,
                     uint32_t path, uint64_t mask) {
    Host *h = &b->hosts[host];
    if (h->nentries) {
        Py_ssize_t found = find_entry(b, host, scope, action, source, path);
        if (found >= 0) {
            b->entries[found].mask |= mask;
            return 0;
        }
    }
    if (b->nentries == b->cap_entries &&
        grow((void **)&b->entries, &b->cap_entries, sizeof(Entry)) < 0)
        return -1;
    h = &b->hosts[host];
    uint32_t index = (uint32_t)b->nentries++;
    Entry *e = &b->entries[index];
    e->mask = mask;
    e->next = 0;
    e->host = host;
    e->source = source;
    e->path = path;
    e->scope = (uint8_t)scope;
    e->action = (uint8_t)action;
    if (h->last) b->entries[h->last - 1].next = index + 1;
    else h->first = index + 1;
    h->last = index + 1;
    h->nentries++;
    if (h->nentries == CHAIN_MAX + 1) { /* index the chain it outgrew */
        if (index_reserve(b, CHAIN_MAX + 1) < 0) return -1;
        for (uint32_t at = h->first; at; at = b->entries[at - 1].next) index_entry(b, at - 1);
    } else if (h->nentries > CHAIN_MAX + 1) {
        if (index_reserve(b, 1) < 0) return -1;
        index_entry(b, index);
    }
    return 0;
}

/* One rule's fields, read before its host is looked up. */
typedef struct {
    PyObject *host;
    const char *utf8;
    Py_ssize_t len, path;
    uint64_t key;
    int scope, action;
} Pending;

static int read_rule(Builder *b, PyObject *rule, Pending *p) {
    NativeState *st = &native_state;
    PyObject *scope = slot_get(&st->rule, rule, 1);
    PyObject *action = scope ? slot_get(&st->rule, rule, 2) : NULL;
    PyObject *path = action ? slot_get(&st->rule, rule, 3) : NULL;
    p->host = path ? slot_get(&st->rule, rule, 0) : NULL;
    int status = -1;
    if (p->host != NULL && (p->scope = member_code(st->scopes, N_SCOPES, scope, "Scope")) >= 0 &&
        (p->action = member_code(st->actions, N_ACTIONS, action, "Action")) >= 0 &&
        (p->path = path_id(b, path)) >= 0) {
        if (!PyUnicode_Check(p->host))
            PyErr_SetString(PyExc_TypeError, "a rule's host is a str");
        else if ((p->utf8 = PyUnicode_AsUTF8AndSize(p->host, &p->len)) != NULL)
            status = 0;
    }
    Py_XDECREF(scope);
    Py_XDECREF(action);
    Py_XDECREF(path);
    if (status == 0) p->key = host_key(p->utf8, (size_t)p->len);
    return status;
}

/* The rules of one source. They are taken a batch at a time: the fields of every rule of the
 * batch are read and its host's slot fetched into the cache, then the hosts are looked up, so
 * that the cache misses of a table much larger than the cache overlap instead of queueing. */
#define BATCH 16

static int read_rules(Builder *b, PyObject *const *rules, Py_ssize_t n, uint32_t source,
                      uint64_t mask) {
    for (Py_ssize_t i = 0; i < n; i += BATCH) {
        Py_ssize_t m = n - i < BATCH ? n - i : BATCH, got = 0;
        Pending batch[BATCH];
        int status = rehash_hosts(b, b->nhosts + (size_t)m);
        for (; status == 0 && got < m; got++) {
            status = read_rule(b, rules[i + got], &batch[got]);
            if (status == 0)
                __builtin_prefetch(&b->host_slots[batch[got].key & (b->nhost_slots - 1)]);
        }
        for (Py_ssize_t j = 0; status == 0 && j < m; j++) {
            Py_ssize_t host = host_index(b, batch[j].host, batch[j].utf8, batch[j].len,
                                         batch[j].key);
            status = host < 0 ? -1
                              : add_entry(b, (uint32_t)host, batch[j].scope, batch[j].action,
                                          source, (uint32_t)batch[j].path, mask);
        }
        for (Py_ssize_t j = 0; j < got; j++) Py_XDECREF(batch[j].host);
        if (status < 0) return -1;
    }
    return 0;
}

/* --- rulesets ----------------------------------------------------------------------------- */

typedef struct {
    uint64_t mask;
    uint32_t source, path;
    uint8_t scope, action;
} Item;

typedef struct {
    Item *items; /* every distinct ruleset, back to back */
    size_t nitems, cap_items;
    size_t *starts; /* ruleset i: items[starts[i]:starts[i + 1]] */
    size_t nsets, cap_starts;
    uint64_t *hashes;
    size_t cap_hashes;
    uint32_t *slots;
    size_t nslots;
} Rulesets;

static void rulesets_free(Rulesets *r) {
    PyMem_Free(r->items);
    PyMem_Free(r->starts);
    PyMem_Free(r->hashes);
    PyMem_Free(r->slots);
}

/* Python's tuple order: scope, action, mask, source, then the path as str. */
static int item_cmp(const Item *x, const Item *y, PyObject *paths) {
    if (x->scope != y->scope) return x->scope < y->scope ? -1 : 1;
    if (x->action != y->action) return x->action < y->action ? -1 : 1;
    if (x->mask != y->mask) return x->mask < y->mask ? -1 : 1;
    if (x->source != y->source) return x->source < y->source ? -1 : 1;
    if (x->path == y->path) return 0;
    return PyUnicode_Compare(PyList_GET_ITEM(paths, x->path), PyList_GET_ITEM(paths, y->path));
}

static void sort_items(Item *items, Item *scratch, size_t n, PyObject *paths) {
    if (n < 2) return;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            Item item = items[i];
            size_t j = i;
            for (; j > 0 && item_cmp(&items[j - 1], &item, paths) > 0; j--) items[j] = items[j - 1];
            items[j] = item;
        }
        return;
    }
    size_t half = n / 2;
    sort_items(items, scratch, half, paths);
    sort_items(items + half, scratch, n - half, paths);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        scratch[k++] = item_cmp(&items[j], &items[i], paths) < 0 ? items[j++] : items[i++];
    while (i < half) scratch[k++] = items[i++];
    while (j < n) scratch[k++] = items[j++];
    memcpy(items, scratch, n * sizeof(Item));
}

static uint64_t items_hash(const Item *items, size_t n) {
    uint64_t h = n;
    for (size_t i = 0; i < n; i++) {
        h ^= items[i].mask;
        h = xxh_round(h, (uint64_t)items[i].source << 32 | items[i].path);
        h = xxh_round(h, (uint64_t)(items[i].scope << 1 | items[i].action));
    }
    return h ^ (h >> 31);
}

static int items_equal(const Item *x, const Item *y, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i].mask != y[i].mask || x[i].source != y[i].source || x[i].path != y[i].path ||
            x[i].scope != y[i].scope || x[i].action != y[i].action)
            return 0;
    return 1;
}

static int rulesets_rehash(Rulesets *r) {
    size_t n = r->nslots ? r->nslots * 2 : 256;
    uint32_t *slots = PyMem_Calloc(n, sizeof(uint32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < r->nsets; i++) {
        size_t at = r->hashes[i] & (n - 1);
        while (slots[at]) at = (at + 1) & (n - 1);
        slots[at] = (uint32_t)(i + 1);
    }
    PyMem_Free(r->slots);
    r->slots = slots;
    r->nslots = n;
    return 0;
}

/* The index of the ruleset items[0:n], added if new; -1 with an exception. */
static Py_ssize_t ruleset_index(Rulesets *r, const Item *items, size_t n) {
    uint64_t h = items_hash(items, n);
    if ((r->nsets + 1) * 2 > r->nslots && rulesets_rehash(r) < 0) return -1;
    size_t at = h & (r->nslots - 1);
    while (r->slots[at]) {
        size_t i = r->slots[at] - 1;
        if (r->hashes[i] == h && r->starts[i + 1] - r->starts[i] == n &&
            items_equal(&r->items[r->starts[i]], items, n))
            return (Py_ssize_t)i;
        at = (at + 1) & (r->nslots - 1);
    }
    while (r->nitems + n > r->cap_items)
        if (grow((void **)&r->items, &r->cap_items, sizeof(Item)) < 0) return -1;
    while (r->nsets + 2 > r->cap_starts)
        if (grow((void **)&r->starts, &r->cap_starts, sizeof(size_t)) < 0) return -1;
    while (r->nsets + 1 > r->cap_hashes)
        if (grow((void **)&r->hashes, &r->cap_hashes, sizeof(uint64_t)) < 0) return -1;
    if (r->nsets == 0) r->starts[0] = 0;
    memcpy(&r->items[r->nitems], items, n * sizeof(Item));
    r->nitems += n;
    r->hashes[r->nsets] = h;
    r->starts[++r->nsets] = r->nitems;
    r->slots[at] = (uint32_t)r->nsets;
    return (Py_ssize_t)r->nsets - 1;
}

static PyObject *rulesets_list(const Rulesets *r, PyObject *paths) {
    PyObject *all = PyList_New((Py_ssize_t)r->nsets);
    for (size_t i = 0; all != NULL && i < r->nsets; i++) {
        PyObject *set = PyList_New((Py_ssize_t)(r->starts[i + 1] - r->starts[i]));
        if (set == NULL) {
            Py_CLEAR(all);
            break;
        }
        PyList_SET_ITEM(all, (Py_ssize_t)i, set);
        for (size_t j = r->starts[i]; j < r->starts[i + 1]; j++) {
            const Item *item = &r->items[j];
            PyObject *rule = Py_BuildValue("[iiKnO]", item->scope, item->action,
                                           (unsigned long long)item->mask,
                                           (Py_ssize_t)item->source,
                                           PyList_GET_ITEM(paths, item->path));
            if (rule == NULL) {
                Py_CLEAR(all);
                break;
            }
            PyList_SET_ITEM(set, (Py_ssize_t)(j - r->starts[i]), rule);
        }
    }
    return all;
}

/* --- the sorted table ----------------------------------------------------------------------- */

static int bucket_bits(size_t n) { /* snapshot._bucket_bits */
    int bits = 0;
    for (size_t m = n > 1 ? n - 1 : 0; m; m >>= 1) bits++;
    return bits < 3 ? 3 : bits;
}

/* Sorts order[0:n] (host indices) by key, keeping host order among equal keys. */
static void sort_bucket(uint32_t *order, size_t n, const uint64_t *keys, uint32_t *scratch) {
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            uint32_t item = order[i];
            size_t j = i;
            for (; j > 0 && keys[order[j - 1]] > keys[item]; j--) order[j] = order[j - 1];
            order[j] = item;
        }
        return;
    }
    size_t half = n / 2;
    sort_bucket(order, half, keys, scratch);
    sort_bucket(order + half, n - half, keys, scratch);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        scratch[k++] = keys[order[j]] < keys[order[i]] ? order[j++] : order[i++];
    while (i < half) scratch[k++] = order[i++];
    while (j < n) scratch[k++] = order[j++];
    memcpy(order, scratch, n * sizeof(uint32_t));
}

static PyObject *finish(Builder *b, const uint32_t *set_ids, PyObject *rulesets,
                        Py_ssize_t rules_in) {
    size_t n = b->nhosts;
    int bits = bucket_bits(n);
    size_t nbuckets = (size_t)1 << bits;
    PyObject *keys = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * n));
    PyObject *sets = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * n));
    PyObject *buckets = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * (nbuckets + 1)));
    uint64_t *host_keys = PyMem_Malloc((n + 1) * sizeof(uint64_t));
    uint32_t *order = PyMem_Malloc((n + 1) * sizeof(uint32_t));
    uint32_t *scratch = PyMem_Malloc((n + 1) * sizeof(uint32_t));
    PyObject *result = NULL;
    if (!keys || !sets || !buckets || !host_keys || !order || !scratch) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    uint32_t *start = (uint32_t *)PyBytes_AS_STRING(buckets);
    memset(start, 0, 4 * (nbuckets + 1));
    int shift = 64 - bits;
    for (size_t i = 0; i < n; i++) {
        host_keys[i] = b->hosts[i].key;
        start[(host_keys[i] >> shift) + 1]++;
    }
    for (size_t i = 1; i <= nbuckets; i++) start[i] += start[i - 1];
    /* start[i]: the first position whose key's top bits are >= i, as the file stores it. A
     * counting sort on those bits keeps host order within a bucket; each bucket (about one
     * key) is then sorted stably on the whole key. */
    uint32_t *next = PyMem_Malloc(nbuckets * sizeof(uint32_t));
    if (next == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(next, start, nbuckets * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) order[next[host_keys[i] >> shift]++] = (uint32_t)i;
    PyMem_Free(next);
    for (size_t i = 0; i < nbuckets; i++)
        sort_bucket(order + start[i], start[i + 1] - start[i], host_keys, scratch);
    uint64_t *key_out = (uint64_t *)PyBytes_AS_STRING(keys);
    uint32_t *set_out = (uint32_t *)PyBytes_AS_STRING(sets);
    for (size_t i = 0; i < n; i++) {
        key_out[i] = host_keys[order[i]];
        set_out[i] = set_ids[order[i]];
        if (i && key_out[i] == key_out[i - 1]) {
            PyErr_Format(PyExc_ValueError, "hash collision between %R and %R",
                         b->hosts[order[i - 1]].host, b->hosts[order[i]].host);
            goto done;
        }
    }
    result = Py_BuildValue("(OOOOnni)", keys, sets, buckets, rulesets, (Py_ssize_t)n, rules_in,
                           bits);
done:
    Py_XDECREF(keys);
    Py_XDECREF(sets);
    Py_XDECREF(buckets);
    PyMem_Free(host_keys);
    PyMem_Free(order);
    PyMem_Free(scratch);
    return result;
}

PyObject *native_build(PyObject *module, PyObject *sources) {
    if (native_check_ready() < 0) return NULL;
    PyObject *pairs = PySequence_Fast(sources, "build() takes a sequence of (rules, mask)");
    if (pairs == NULL) return NULL;
    Builder b = {0};
    Rulesets r = {0};
    Py_ssize_t rules_in = 0;
    uint32_t *set_ids = NULL;
    Item *items = NULL, *scratch = NULL;
    PyObject *rulesets = NULL, *result = NULL;
    b.paths = PyList_New(0);
    b.path_ids = PyDict_New();
    if (b.paths == NULL || b.path_ids == NULL) goto done;
    Py_INCREF(native_state.empty);
    if (PyList_Append(b.paths, native_state.empty) < 0) {
        Py_DECREF(native_state.empty);
        goto done;
    }
    Py_DECREF(native_state.empty);
    size_t most_hosts = 0; /* at most one a rule: size the host table once */
    for (Py_ssize_t s = 0; s < PySequence_Fast_GET_SIZE(pairs); s++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(pairs, s);
        Py_ssize_t n = PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2
                           ? PyObject_LengthHint(PyTuple_GET_ITEM(pair, 0), 0)
                           : 0;
        if (n < 0) goto done;
        most_hosts += (size_t)n;
    }
    if (rehash_hosts(&b, most_hosts) < 0) goto done;
    for (Py_ssize_t s = 0; s < PySequence_Fast_GET_SIZE(pairs); s++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(pairs, s);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "build() takes (rules, mask) pairs");
            goto done;
        }
        uint64_t mask = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(pair, 1));
        if (PyErr_Occurred()) goto done;
        PyObject *rules = PySequence_Fast(PyTuple_GET_ITEM(pair, 0), "rules must be iterable");
        if (rules == NULL) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(rules);
        int status = read_rules(&b, PySequence_Fast_ITEMS(rules), n, (uint32_t)s, mask);
        Py_DECREF(rules);
        if (status < 0) goto done;
        rules_in += n;
    }
    size_t most = 1;
    for (size_t h = 0; h < b.nhosts; h++)
        if (b.hosts[h].nentries > most) most = b.hosts[h].nentries;
    set_ids = PyMem_Malloc((b.nhosts + 1) * sizeof(uint32_t));
    items = PyMem_Malloc(most * sizeof(Item));
    scratch = PyMem_Malloc(most * sizeof(Item));
    if (set_ids == NULL || items == NULL || scratch == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t h = 0; h < b.nhosts; h++) {
        size_t n = 0;
        for (uint32_t e = b.hosts[h].first; e; e = b.entries[e - 1].next) {
            const Entry *entry = &b.entries[e - 1];
            items[n++] = (Item){entry->mask, entry->source, entry->path, entry->scope,
                                entry->action};
        }
        sort_items(items, scratch, n, b.paths);
        Py_ssize_t id = ruleset_index(&r, items, n);
        if (id < 0) goto done;
        set_ids[h] = (uint32_t)id;
    }
    rulesets = rulesets_list(&r, b.paths);
    if (rulesets != NULL) result = finish(&b, set_ids, rulesets, rules_in);
done:
    Py_XDECREF(rulesets);
    PyMem_Free(set_ids);
    PyMem_Free(items);
    PyMem_Free(scratch);
    rulesets_free(&r);
    builder_free(&b);
    Py_DECREF(pairs);
    return result;
}
