/* filters.dns._fastpath: answering repeated DNS questions over UDP without entering Python.
 *
 * The Python front end (filters/dns/frontend.py) decides every question the first time it is
 * asked: who the line is, what the child's profile says, what the upstream answered. It then
 * hands this module two facts to remember (filters/dns/fastpath.py):
 *
 *   sources: identity key -> (profile slot, child slot), until an expiry;
 *   memo:    (profile slot, type, DO bit, lowercase name) -> the answer's parts, until an expiry.
 *
 * The identity key is what the Python front end identifies a line by, in the same order:
 * the private EDNS line option if present (kind 1), else EDNS Client Subnet (kind 2), else
 * the source address (kind 0), followed by the payload or address bytes.
 *
 * serve() reads datagrams in batches (recvmmsg), answers every plain query whose source and
 * question are both remembered and fresh, sends those answers in one batch (sendmmsg), and
 * returns everything else to Python, with its identity key, to be decided there. An answer is
 * rendered as build.message / cache.Answer.render do: the client's id, RD and CD flags, its
 * question as sent, the remembered records with TTLs aged, our OPT record (with the Extended
 * DNS Error, if any) when the client sent one, truncated when larger than the client takes.
 *
 * Hits of a (child, verdict) pair are counted here and taken by Python every few hundred
 * milliseconds, so the child's report and the self-harm alert see every query.
 *
 * Every datagram first passes the per-source rate limit (``limit``: a token bucket per source
 * address, networks of trusted resolvers exempt); one over it is dropped, whichever path it
 * would have taken, so a flood costs neither Python nor the upstream.
 *
 * Memory is bounded: the tables have a fixed number of entries, replaced by a CLOCK sweep
 * (an entry used since the hand last passed survives one more round).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define IN_SIZE 65536
#define OUT_SIZE 65536
#define MAX_KEY 280
#define MAX_IDENTITY 64
#define COUNT_SLOTS 65536
#define OUR_UDP_SIZE 1232
#define T_OPT 41

/* --- a bounded hash table with CLOCK replacement ---------------------------------------- */

typedef struct {
    uint64_t hash;
    double expires;
    uint8_t *block; /* key bytes, then the value (8-aligned) */
    uint32_t next;  /* index + 1 of the next entry in the bucket; 0 ends it */
    uint16_t keylen;
    uint8_t used;
    uint8_t ref;
} Entry;

typedef struct {
    Entry *pool;
    uint32_t *buckets; /* index + 1 of the first entry; 0: empty */
    uint32_t capacity, count, hand, mask;
} Table;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static size_t key_room(size_t keylen) { return (keylen + 7) & ~(size_t)7; }

static void *entry_value(Entry *e) { return e->block + key_room(e->keylen); }

static int table_init(Table *t, uint32_t capacity) {
    uint32_t buckets = 1;
    while (buckets < capacity * 2) buckets <<= 1;
    t->capacity = capacity;
    t->count = t->hand = 0;
    t->mask = buckets - 1;
    t->pool = capacity ? PyMem_Calloc(capacity, sizeof(Entry)) : NULL;
    t->buckets = PyMem_Calloc(buckets, sizeof(uint32_t));
    if ((capacity && t->pool == NULL) || t->buckets == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void table_clear(Table *t) {
    for (uint32_t i = 0; i < t->count; i++) {
        PyMem_Free(t->pool[i].block);
        t->pool[i].block = NULL;
        t->pool[i].used = 0;
    }
    t->count = t->hand = 0;
    memset(t->buckets, 0, (size_t)(t->mask + 1) * sizeof(uint32_t));
}

static void table_free(Table *t) {
    if (t->pool != NULL) table_clear(t);
    PyMem_Free(t->pool);
    PyMem_Free(t->buckets);
    t->pool = NULL;
    t->buckets = NULL;
}

static Entry *table_find(Table *t, uint64_t hash, const uint8_t *key, size_t keylen) {
    uint32_t at = t->buckets[hash & t->mask];
    while (at) {
        Entry *e = &t->pool[at - 1];
        if (e->hash == hash && e->keylen == keylen && memcmp(e->block, key, keylen) == 0) return e;
        at = e->next;
    }
    return NULL;
}

static void table_unlink(Table *t, Entry *victim) {
    uint32_t *link = &t->buckets[victim->hash & t->mask];
    uint32_t index = (uint32_t)(victim - t->pool) + 1;
    while (*link && *link != index) link = &t->pool[*link - 1].next;
    if (*link) *link = victim->next;
    PyMem_Free(victim->block);
    victim->block = NULL;
    victim->used = 0;
}

/* The entry for key, new or replaced, with room for value_size bytes; NULL without memory. */
static Entry *table_put(Table *t, uint64_t hash, const uint8_t *key, size_t keylen,
                        size_t value_size) {
    if (t->capacity == 0) return NULL;
    uint8_t *block = PyMem_Malloc(key_room(keylen) + value_size);
    if (block == NULL) return NULL;
    memcpy(block, key, keylen);
    Entry *e = table_find(t, hash, key, keylen);
    if (e != NULL) {
        PyMem_Free(e->block);
        e->block = block;
        return e;
    }
    if (t->count < t->capacity) {
        e = &t->pool[t->count++];
    } else {
        for (;;) {
            e = &t->pool[t->hand];
            t->hand = (t->hand + 1) % t->capacity;
            if (!e->ref) break;
            e->ref = 0;
        }
        table_unlink(t, e);
    }
    e->hash = hash;
    e->keylen = (uint16_t)keylen;
    e->block = block;
    e->used = 1;
    e->ref = 0;
    uint32_t *head = &t->buckets[hash & t->mask];
    e->next = *head;
    *head = (uint32_t)(e - t->pool) + 1;
    return e;
}

/* --- the values ---------------------------------------------------------------------------- */

typedef struct {
    double stale_until; /* after ``expires``, answered from until then while Python refreshes */
    int32_t profile;    /* -1: refused, or not known: Python answers */
    int32_t child;      /* -1: counted for nobody */
} SourceValue;

typedef struct {
    double tokens;
    double last;
} Bucket;

typedef struct {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t bits;
    uint8_t network[16];
} Network;

typedef struct {
    double stored_at; /* monotonic seconds the records' TTLs were read */
    int32_t verdict;  /* -1: nothing to count */
    uint32_t body_len;
    uint16_t an, ns, ar;
    uint16_t nttl;
    uint16_t ede_len;
    uint8_t rcode;
    uint8_t pad;
    /* then uint32_t ttl[nttl], uint16_t ttl_offset[nttl], ede option bytes, body bytes */
} MemoValue;

static uint32_t *memo_ttls(MemoValue *v) { return (uint32_t *)(v + 1); }
static uint16_t *memo_offsets(MemoValue *v) { return (uint16_t *)(memo_ttls(v) + v->nttl); }
static uint8_t *memo_ede(MemoValue *v) { return (uint8_t *)(memo_offsets(v) + v->nttl); }
static uint8_t *memo_body(MemoValue *v) { return memo_ede(v) + v->ede_len; }

/* --- the object --------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Table sources;
    Table memo;
    Table buckets;
    double rate, burst; /* queries a second per source, and how many at once; rate 0: none */
    Network *exempt;
    Py_ssize_t n_exempt;
    uint64_t *count_keys; /* (child << 32 | verdict) + 1; 0: empty */
    uint32_t *count_values;
    uint32_t counted;
    int line_option_code;
    struct mmsghdr in_msgs[BATCH];
    struct iovec in_iov[BATCH];
    struct sockaddr_storage in_addr[BATCH];
    struct mmsghdr out_msgs[BATCH];
    struct iovec out_iov[BATCH];
    uint8_t *in_buf;
    uint8_t *out_buf;
    unsigned long long received, answered, passed, dropped, limited, send_failures;
} FastPath;

static void FastPath_dealloc(FastPath *self) {
    table_free(&self->sources);
    table_free(&self->memo);
    table_free(&self->buckets);
    PyMem_Free(self->exempt);
    PyMem_Free(self->count_keys);
    PyMem_Free(self->count_values);
    PyMem_Free(self->in_buf);
    PyMem_Free(self->out_buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int FastPath_init(FastPath *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"memo_size", "sources_size", "line_option_code", NULL};
    unsigned int memo_size, sources_size;
    int code;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "IIi", kwlist, &memo_size, &sources_size, &code))
        return -1;
    if (memo_size > 50000000 || sources_size > 50000000) {
        PyErr_SetString(PyExc_ValueError, "table sizes are limited to 50,000,000 entries");
        return -1;
    }
    self->line_option_code = code;
    if (table_init(&self->memo, memo_size) < 0 || table_init(&self->sources, sources_size) < 0 ||
        table_init(&self->buckets, sources_size) < 0)
        return -1;
    self->count_keys = PyMem_Calloc(COUNT_SLOTS, sizeof(uint64_t));
    self->count_values = PyMem_Calloc(COUNT_SLOTS, sizeof(uint32_t));
    self->in_buf = PyMem_Malloc((size_t)BATCH * IN_SIZE);
    self->out_buf = PyMem_Malloc((size_t)BATCH * OUT_SIZE);
    if (!self->count_keys || !self->count_values || !self->in_buf || !self->out_buf) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < BATCH; i++) {
        self->in_iov[i].iov_base = self->in_buf + (size_t)i * IN_SIZE;
        self->in_iov[i].iov_len = IN_SIZE;
    }
    return 0;
}

/* --- reading a query ---------------------------------------------------------------------- */

enum { MISS = 0, HIT = 1, DROP = 2, HIT_REFRESH = 3 };
#define REFRESH_RETRY 1.0 /* seconds before asking Python again to refresh the same line */

typedef struct {
    size_t qend;       /* end of the question (after type and class) */
    uint16_t flags;
    uint16_t qtype;
    int edns;          /* the client sent an OPT record */
    int do_bit;
    unsigned limit;    /* the largest UDP answer the client takes */
    const uint8_t *line_option;
    size_t line_option_len;
    const uint8_t *subnet;
    size_t subnet_len;
    uint8_t key[MAX_KEY]; /* profile slot (4), type (2), DO (1), lowercase name */
    size_t keylen;
} Question;

/* MISS unless the packet is a plain query the memo can answer: one question, class IN, opcode
 * 0, at most an OPT record of version 0 after it, nothing else. DROP for a response. */
static int read_query(const uint8_t *p, size_t n, int line_code, Question *q) {
    if (n < 12) return MISS;
    q->flags = (uint16_t)(p[2] << 8 | p[3]);
    if (q->flags & 0x8000) return DROP; /* a response: nobody to answer (as Python does) */
    if (q->flags & 0x7800) return MISS; /* another opcode */
    unsigned qd = p[4] << 8 | p[5], an = p[6] << 8 | p[7], ns = p[8] << 8 | p[9],
             ar = p[10] << 8 | p[11];
    if (qd != 1 || an || ns || ar > 1) return MISS;
    size_t at = 12, name = 0;
    uint8_t *out = q->key + 7;
    for (;;) {
        if (at >= n) return MISS;
        unsigned len = p[at];
        if (len & 0xC0) return MISS;
        if (len == 0) break;
        name += len + 1;
        if (name > 255 || at + 1 + len > n) return MISS;
        *out++ = (uint8_t)len;
        for (unsigned i = 1; i <= len; i++) {
            uint8_t c = p[at + i];
            *out++ = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        }
        at += 1 + len;
    }
    *out++ = 0;
    at += 1;
    if (at + 4 > n) return MISS;
    q->qtype = (uint16_t)(p[at] << 8 | p[at + 1]);
    unsigned qclass = p[at + 2] << 8 | p[at + 3];
    if (qclass != 1 || q->qtype == 6 || q->qtype == 251 || q->qtype == 252) return MISS;
    at += 4;
    q->qend = at;
    q->keylen = (size_t)(out - q->key);
    q->edns = q->do_bit = 0;
    q->limit = 512;
    q->line_option = q->subnet = NULL;
    q->line_option_len = q->subnet_len = 0;
    if (ar) {
        if (at + 11 > n || p[at] != 0) return MISS;
        unsigned type = p[at + 1] << 8 | p[at + 2], size = p[at + 3] << 8 | p[at + 4];
        unsigned version = p[at + 6], rdlen = p[at + 9] << 8 | p[at + 10];
        if (type != T_OPT || version != 0 || at + 11 + rdlen != n) return MISS;
        q->edns = 1;
        q->do_bit = (p[at + 7] & 0x80) != 0;
        q->limit = size > 512 ? size : 512;
        size_t o = at + 11;
        while (o < n) {
            if (o + 4 > n) return MISS;
            unsigned code = p[o] << 8 | p[o + 1], len = p[o + 2] << 8 | p[o + 3];
            o += 4;
            if (o + len > n) return MISS;
            if ((int)code == line_code) {
                q->line_option = p + o;
                q->line_option_len = len;
            } else if (code == 8) {
                q->subnet = p + o;
                q->subnet_len = len;
            }
            o += len;
        }
    } else if (at != n) {
        return MISS;
    }
    q->key[4] = (uint8_t)(q->qtype >> 8);
    q->key[5] = (uint8_t)q->qtype;
    q->key[6] = (uint8_t)q->do_bit;
    return HIT;
}

/* The identity key of the query (see the top of this file); 0 if it cannot have one. */
static size_t identity_key(const Question *q, const struct sockaddr_storage *addr, uint8_t *key) {
    const uint8_t *payload;
    size_t len;
    if (q->line_option != NULL) {
        key[0] = 1;
        payload = q->line_option;
        len = q->line_option_len;
    } else if (q->subnet != NULL) {
        key[0] = 2;
        payload = q->subnet;
        len = q->subnet_len;
    } else if (addr->ss_family == AF_INET) {
        key[0] = 0;
        payload = (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
        len = 4;
    } else if (addr->ss_family == AF_INET6) {
        key[0] = 0;
        payload = (const uint8_t *)&((const struct sockaddr_in6 *)addr)->sin6_addr;
        len = 16;
    } else {
        return 0;
    }
    if (len > MAX_IDENTITY) return 0;
    memcpy(key + 1, payload, len);
    return len + 1;
}

/* --- answering ------------------------------------------------------------------------------ */

static uint8_t *put16(uint8_t *o, unsigned v) {
    o[0] = (uint8_t)(v >> 8);
    o[1] = (uint8_t)v;
    return o + 2;
}

static uint8_t *put32(uint8_t *o, uint32_t v) {
    o[0] = (uint8_t)(v >> 24);
    o[1] = (uint8_t)(v >> 16);
    o[2] = (uint8_t)(v >> 8);
    o[3] = (uint8_t)v;
    return o + 4;
}

static uint8_t *put_opt(uint8_t *o, int do_bit, const uint8_t *options, size_t len) {
    *o++ = 0;
    o = put16(o, T_OPT);
    o = put16(o, OUR_UDP_SIZE);
    o = put32(o, do_bit ? 0x8000 : 0);
    o = put16(o, (unsigned)len);
    if (len) memcpy(o, options, len);
    return o + len;
}

/* The answer to q (packet p) from v into out; its length. */
static size_t render(const uint8_t *p, const Question *q, MemoValue *v, double now, uint8_t *out) {
    size_t question = q->qend - 12;
    size_t opt = q->edns ? 11 + (size_t)v->ede_len : 0;
    size_t size = 12 + question + v->body_len + opt;
    unsigned base = 0x8000 | 0x0080 | (q->flags & (0x0100 | 0x0010));
    uint8_t *o = out;
    o[0] = p[0];
    o[1] = p[1];
    if (size > q->limit) { /* truncated: the client asks again over TCP */
        o = put16(o + 2, base | 0x0200);
        o = put16(o, 1);
        o = put16(o, 0);
        o = put16(o, 0);
        o = put16(o, q->edns ? 1 : 0);
        memcpy(o, p + 12, question);
        o += question;
        if (q->edns) o = put_opt(o, q->do_bit, NULL, 0);
        return (size_t)(o - out);
    }
    o = put16(o + 2, base | (v->rcode & 0xF));
    o = put16(o, 1);
    o = put16(o, v->an);
    o = put16(o, v->ns);
    o = put16(o, (unsigned)v->ar + (q->edns ? 1 : 0));
    memcpy(o, p + 12, question);
    o += question;
    uint8_t *body = o;
    memcpy(body, memo_body(v), v->body_len);
    o += v->body_len;
    double age = now - v->stored_at;
    int64_t elapsed = age > 0 ? (int64_t)age : 0;
    if (elapsed && v->nttl) {
        uint32_t *ttls = memo_ttls(v);
        uint16_t *offsets = memo_offsets(v);
        for (unsigned i = 0; i < v->nttl; i++) {
            int64_t left = (int64_t)ttls[i] - elapsed;
            put32(body + offsets[i], left > 0 ? (uint32_t)left : 0);
        }
    }
    if (q->edns) o = put_opt(o, q->do_bit, memo_ede(v), v->ede_len);
    return (size_t)(o - out);
}

static int count_hit(FastPath *self, int32_t child, int32_t verdict) {
    uint64_t key = (((uint64_t)(uint32_t)child << 32) | (uint32_t)verdict) + 1;
    uint32_t at = (uint32_t)(hash_bytes((const uint8_t *)&key, 8) & (COUNT_SLOTS - 1));
    for (;;) {
        if (self->count_keys[at] == key) break;
        if (self->count_keys[at] == 0) {
            if (self->counted >= COUNT_SLOTS / 2) return -1; /* full until taken */
            self->count_keys[at] = key;
            self->counted++;
            break;
        }
        at = (at + 1) & (COUNT_SLOTS - 1);
    }
    self->count_values[at]++;
    return 0;
}

/* HIT (out filled, *size set), MISS (*identity_len set, 0 if none) or DROP. HIT_REFRESH: a
 * HIT from a line whose identity is due to be refreshed (*identity_len set). */
static int answer(FastPath *self, const uint8_t *p, size_t n, const struct sockaddr_storage *addr,
                  double now, uint8_t *out, size_t *size, uint8_t *identity,
                  size_t *identity_len) {
    Question q;
    *identity_len = 0;
    int read = read_query(p, n, self->line_option_code, &q);
    if (read != HIT) return read;
    size_t idlen = identity_key(&q, addr, identity);
    if (idlen == 0) return MISS;
    *identity_len = idlen;
    Entry *source = table_find(&self->sources, hash_bytes(identity, idlen), identity, idlen);
    if (source == NULL) return MISS;
    SourceValue *who = entry_value(source);
    int outcome = HIT;
    if (source->expires <= now) {
        if (who->stale_until <= now) return MISS;
        outcome = HIT_REFRESH;
    }
    if (who->profile < 0) return MISS;
    memcpy(q.key, &who->profile, 4);
    Entry *hit = table_find(&self->memo, hash_bytes(q.key, q.keylen), q.key, q.keylen);
    if (hit == NULL || hit->expires <= now) return MISS;
    MemoValue *v = entry_value(hit);
    if (who->child >= 0 && v->verdict >= 0 && count_hit(self, who->child, v->verdict) < 0)
        return MISS; /* Python counts it */
    source->ref = hit->ref = 1;
    *size = render(p, &q, v, now, out);
    if (outcome == HIT_REFRESH) source->expires = now + REFRESH_RETRY; /* one request a while */
    return outcome;
}

/* --- the rate limit --------------------------------------------------------------------- */

static int exempt(const FastPath *self, const uint8_t *addr, int family) {
    for (Py_ssize_t i = 0; i < self->n_exempt; i++) {
        const Network *n = &self->exempt[i];
        if (n->family != family) continue;
        unsigned full = n->bits / 8, rest = n->bits % 8;
        if (memcmp(addr, n->network, full) != 0) continue;
        if (rest && ((addr[full] ^ n->network[full]) & (uint8_t)(0xFF << (8 - rest)))) continue;
        return 1;
    }
    return 0;
}

/* Whether a datagram from addr may be answered now (a token taken if so). */
static int within_limit(FastPath *self, const struct sockaddr_storage *addr, double now) {
    if (self->rate <= 0) return 1;
    uint8_t key[17];
    size_t len;
    if (addr->ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        len = 5;
    } else if (addr->ss_family == AF_INET6) {
        key[0] = 6;
        memcpy(key + 1, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
        len = 17;
    } else {
        return 1;
    }
    if (exempt(self, key + 1, key[0] == 4 ? AF_INET : AF_INET6)) return 1;
    uint64_t hash = hash_bytes(key, len);
    Entry *e = table_find(&self->buckets, hash, key, len);
    if (e == NULL) {
        e = table_put(&self->buckets, hash, key, len, sizeof(Bucket));
        if (e == NULL) return 1;
        Bucket *b = entry_value(e);
        b->tokens = self->burst;
        b->last = now;
    }
    e->ref = 1;
    Bucket *b = entry_value(e);
    double elapsed = now - b->last;
    if (elapsed > 0) {
        b->tokens += elapsed * self->rate;
        if (b->tokens > self->burst) b->tokens = self->burst;
        b->last = now;
    }
    if (b->tokens < 1.0) return 0;
    b->tokens -= 1.0;
    return 1;
}

static PyObject *FastPath_limit(FastPath *self, PyObject *args) {
    double rate, burst;
    PyObject *networks;
    if (!PyArg_ParseTuple(args, "ddO", &rate, &burst, &networks)) return NULL;
    PyObject *seq = PySequence_Fast(networks, "exempt networks must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Network *list = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Network));
    if (list == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *bytes;
        Py_ssize_t len;
        int bits;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "y#i", &bytes, &len, &bits) ||
            (len != 4 && len != 16) || bits < 0 || bits > len * 8) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a network is (4 or 16 address bytes, bits)");
            PyMem_Free(list);
            Py_DECREF(seq);
            return NULL;
        }
        list[i].family = len == 4 ? AF_INET : AF_INET6;
        list[i].bits = (uint8_t)bits;
        memcpy(list[i].network, bytes, (size_t)len);
    }
    Py_DECREF(seq);
    PyMem_Free(self->exempt);
    self->exempt = list;
    self->n_exempt = n;
    self->rate = rate;
    self->burst = burst < 1 ? 1 : burst;
    table_clear(&self->buckets);
    Py_RETURN_NONE;
}

static PyObject *address_tuple(const struct sockaddr_storage *addr) {
    char text[INET6_ADDRSTRLEN];
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        return Py_BuildValue("(si)", text, ntohs(a->sin_port));
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    return Py_BuildValue("(siII)", text, ntohs(a->sin6_port), ntohl(a->sin6_flowinfo),
                         a->sin6_scope_id);
}

static void send_all(FastPath *self, int fd, int count) {
    int sent = 0;
    while (sent < count) {
        int done;
        Py_BEGIN_ALLOW_THREADS
        done = sendmmsg(fd, self->out_msgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
        Py_END_ALLOW_THREADS
        if (done < 0) {
            if (errno == EINTR) continue;
            /* A full socket buffer or an unreachable client: UDP answers may be lost; skip the
             * one that failed and send the rest. */
            self->send_failures++;
            sent++;
            continue;
        }
        sent += done;
    }
}

static PyObject *FastPath_serve(FastPath *self, PyObject *args) {
    int fd, budget;
    double now;
    if (!PyArg_ParseTuple(args, "idi", &fd, &now, &budget)) return NULL;
    PyObject *misses = PyList_New(0);
    if (misses == NULL) return NULL;
    uint8_t identity[MAX_IDENTITY + 1];
    while (budget > 0) {
        for (int i = 0; i < BATCH; i++) {
            struct msghdr *h = &self->in_msgs[i].msg_hdr;
            memset(h, 0, sizeof *h);
            h->msg_name = &self->in_addr[i];
            h->msg_namelen = sizeof self->in_addr[i];
            h->msg_iov = &self->in_iov[i];
            h->msg_iovlen = 1;
        }
        int got;
        Py_BEGIN_ALLOW_THREADS
        got = recvmmsg(fd, self->in_msgs, BATCH, MSG_DONTWAIT, NULL);
        Py_END_ALLOW_THREADS
        if (got < 0) {
            if (errno == EINTR) continue;
            break; /* nothing more now (EAGAIN), or an ICMP error of an earlier send */
        }
        int sending = 0;
        for (int i = 0; i < got; i++) {
            self->received++;
            const uint8_t *packet = self->in_buf + (size_t)i * IN_SIZE;
            size_t length = self->in_msgs[i].msg_len;
            if (self->in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                self->dropped++; /* larger than any query: not one */
                continue;
            }
            if (!within_limit(self, &self->in_addr[i], now)) {
                self->limited++;
                continue;
            }
            uint8_t *out = self->out_buf + (size_t)sending * OUT_SIZE;
            size_t size = 0, idlen = 0;
            int outcome = answer(self, packet, length, &self->in_addr[i], now, out, &size,
                                 identity, &idlen);
            if (outcome == DROP) {
                self->dropped++;
                continue;
            }
            if (outcome == HIT_REFRESH) {
                /* Answered; Python is asked to identify the line again (answered=True). */
                PyObject *item = Py_BuildValue(
                    "(y#Ny#O)", (const char *)packet, (Py_ssize_t)length,
                    address_tuple(&self->in_addr[i]), (const char *)identity, (Py_ssize_t)idlen,
                    Py_True);
                if (item == NULL || PyList_Append(misses, item) < 0) {
                    Py_XDECREF(item);
                    Py_DECREF(misses);
                    return NULL;
                }
                Py_DECREF(item);
                outcome = HIT;
            }
            if (outcome == HIT) {
                self->answered++;
                struct msghdr *h = &self->out_msgs[sending].msg_hdr;
                memset(h, 0, sizeof *h);
                self->out_iov[sending].iov_base = out;
                self->out_iov[sending].iov_len = size;
                h->msg_name = &self->in_addr[i];
                h->msg_namelen = self->in_msgs[i].msg_hdr.msg_namelen;
                h->msg_iov = &self->out_iov[sending];
                h->msg_iovlen = 1;
                sending++;
                continue;
            }
            self->passed++;
            PyObject *item = Py_BuildValue(
                "(y#Ny#O)", (const char *)packet, (Py_ssize_t)length,
                address_tuple(&self->in_addr[i]), idlen ? (const char *)identity : NULL,
                (Py_ssize_t)idlen, Py_False);
            if (item == NULL || PyList_Append(misses, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(misses);
                return NULL;
            }
            Py_DECREF(item);
        }
        if (sending) send_all(self, fd, sending);
        budget -= got;
        if (got < BATCH) break;
    }
    return misses;
}

/* --- what Python tells it ------------------------------------------------------------------ */

static PyObject *FastPath_set_source(FastPath *self, PyObject *args) {
    Py_buffer key;
    int profile, child;
    double expires, stale_until;
    if (!PyArg_ParseTuple(args, "y*iidd", &key, &profile, &child, &expires, &stale_until))
        return NULL;
    if (key.len == 0 || key.len > MAX_IDENTITY + 1) {
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_ValueError, "identity key must be 1 to 65 bytes");
        return NULL;
    }
    const uint8_t *k = key.buf;
    Entry *e = table_put(&self->sources, hash_bytes(k, (size_t)key.len), k, (size_t)key.len,
                         sizeof(SourceValue));
    PyBuffer_Release(&key);
    if (e == NULL) Py_RETURN_NONE;
    SourceValue *v = entry_value(e);
    v->profile = profile;
    v->child = child;
    v->stale_until = stale_until;
    e->expires = expires;
    Py_RETURN_NONE;
}

static PyObject *FastPath_remember(FastPath *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"profile",   "name",   "qtype", "do",      "rcode",
                             "counts",    "body",   "ttl_offsets",      "ttls",
                             "stored_at", "expires", "ede",  "verdict", NULL};
    int profile, qtype, do_bit, rcode, verdict;
    unsigned int an, ns, ar;
    Py_buffer name, body, ede;
    PyObject *offsets, *ttls;
    double stored_at, expires;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iy*ipi(III)y*OOddy*i", kwlist, &profile, &name,
                                     &qtype, &do_bit, &rcode, &an, &ns, &ar, &body, &offsets,
                                     &ttls, &stored_at, &expires, &ede, &verdict))
        return NULL;
    PyObject *result = NULL;
    PyObject *off_seq = PySequence_Fast(offsets, "ttl_offsets must be a sequence");
    PyObject *ttl_seq = off_seq ? PySequence_Fast(ttls, "ttls must be a sequence") : NULL;
    if (ttl_seq == NULL) goto done;
    Py_ssize_t nttl = PySequence_Fast_GET_SIZE(off_seq);
    if (nttl != PySequence_Fast_GET_SIZE(ttl_seq) || nttl > 65535 || name.len > 256 ||
        name.len < 1 || body.len > 65535 || ede.len > 65535 || an > 65535 || ns > 65535 ||
        ar > 65535 || rcode < 0 || rcode > 15) {
        PyErr_SetString(PyExc_ValueError, "an answer the fast path cannot hold");
        goto done;
    }
    uint8_t key[MAX_KEY];
    memcpy(key, &profile, 4);
    key[4] = (uint8_t)(qtype >> 8);
    key[5] = (uint8_t)qtype;
    key[6] = (uint8_t)(do_bit != 0);
    memcpy(key + 7, name.buf, (size_t)name.len);
    size_t keylen = 7 + (size_t)name.len;
    size_t size = sizeof(MemoValue) + (size_t)nttl * 6 + (size_t)ede.len + (size_t)body.len;
    Entry *e = table_put(&self->memo, hash_bytes(key, keylen), key, keylen, size);
    if (e == NULL) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    MemoValue *v = entry_value(e);
    v->stored_at = stored_at;
    v->verdict = verdict;
    v->body_len = (uint32_t)body.len;
    v->an = (uint16_t)an;
    v->ns = (uint16_t)ns;
    v->ar = (uint16_t)ar;
    v->nttl = (uint16_t)nttl;
    v->ede_len = (uint16_t)ede.len;
    v->rcode = (uint8_t)rcode;
    e->expires = expires;
    for (Py_ssize_t i = 0; i < nttl; i++) {
        unsigned long off = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(off_seq, i));
        unsigned long ttl = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(ttl_seq, i));
        if (PyErr_Occurred() || off + 4 > (unsigned long)body.len || ttl > 0xFFFFFFFFUL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "TTL outside the body");
            e->expires = 0; /* never served */
            goto done;
        }
        memo_offsets(v)[i] = (uint16_t)off;
        memo_ttls(v)[i] = (uint32_t)ttl;
    }
    memcpy(memo_ede(v), ede.buf, (size_t)ede.len);
    memcpy(memo_body(v), body.buf, (size_t)body.len);
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(off_seq);
    Py_XDECREF(ttl_seq);
    PyBuffer_Release(&name);
    PyBuffer_Release(&body);
    PyBuffer_Release(&ede);
    return result;
}

static PyObject *FastPath_take_counts(FastPath *self, PyObject *unused) {
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    for (uint32_t i = 0; i < COUNT_SLOTS && self->counted; i++) {
        uint64_t key = self->count_keys[i];
        if (key == 0) continue;
        key -= 1;
        PyObject *item = Py_BuildValue("(iiI)", (int32_t)(key >> 32), (int32_t)(uint32_t)key,
                                       self->count_values[i]);
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(item);
        self->count_keys[i] = 0;
        self->count_values[i] = 0;
        self->counted--;
    }
    return out;
}

static PyObject *FastPath_clear(FastPath *self, PyObject *unused) {
    table_clear(&self->memo);
    table_clear(&self->sources);
    Py_RETURN_NONE;
}

static PyObject *FastPath_stats(FastPath *self, PyObject *unused) {
    return Py_BuildValue("{sKsKsKsKsKsKsIsI}", "received", self->received, "answered",
                         self->answered, "passed", self->passed, "dropped", self->dropped,
                         "limited", self->limited, "send_failures", self->send_failures,
                         "memo_entries", self->memo.count, "source_entries", self->sources.count);
}

static PyMethodDef FastPath_methods[] = {
    {"serve", (PyCFunction)FastPath_serve, METH_VARARGS,
     "serve(fd, now, budget): answer what can be answered; the rest as (packet, address, key,"
     " answered): answered=True asks only for the line to be identified again"},
    {"set_source", (PyCFunction)FastPath_set_source, METH_VARARGS,
     "set_source(key, profile, child, expires, stale_until)"},
    {"remember", (PyCFunction)(void (*)(void))FastPath_remember, METH_VARARGS | METH_KEYWORDS,
     "remember(...): an answer for a profile's question, until expires"},
    {"limit", (PyCFunction)FastPath_limit, METH_VARARGS,
     "limit(rate, burst, exempt): queries a second per source address, at most burst at once;"
     " exempt: [(network address bytes, prefix bits)]; rate 0 turns the limit off"},
    {"take_counts", (PyCFunction)FastPath_take_counts, METH_NOARGS,
     "take_counts(): [(child, verdict, hits)] since the last call"},
    {"clear", (PyCFunction)FastPath_clear, METH_NOARGS, "forget every source and answer"},
    {"stats", (PyCFunction)FastPath_stats, METH_NOARGS, "counters since creation"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FastPathType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "filters.dns._fastpath.FastPath",
    .tp_basicsize = sizeof(FastPath),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FastPath_init,
    .tp_dealloc = (destructor)FastPath_dealloc,
    .tp_methods = FastPath_methods,
    .tp_doc = "Answers repeated UDP questions from what the Python front end remembered.",
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "filters.dns._fastpath", "The DNS front end's UDP fast path.", -1,
};

PyMODINIT_FUNC PyInit__fastpath(void) {
    if (PyType_Ready(&FastPathType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&FastPathType);
    if (PyModule_AddObject(m, "FastPath", (PyObject *)&FastPathType) < 0) {
        Py_DECREF(&FastPathType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
