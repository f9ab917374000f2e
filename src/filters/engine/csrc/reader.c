/* Reader: formats._read in C, for whole files (bytes) or lines (str).
 *
 * Every line is counted exactly as formats._read counts it. The common line shapes are read
 * here: blank and comment lines, ``0.0.0.0 name`` / ``127.0.0.1 name`` in hosts files, a plain
 * name in domains lists, ``*.name`` in wildcard lists and ``[@@]||name^`` in AdBlock lists,
 * each with a name normalize_host's fast path takes. Any other line goes to the format's Python
 * handler, whose outcome is then counted the same way, so rejections and their reasons are
 * Python's. The rules already seen (for duplicates) live in the Reader, which a UT1 folder
 * shares between its two files.
 */
#include "native.h"

enum { KIND_GENERIC = 0, KIND_HOSTS, KIND_DOMAINS, KIND_WILDCARD, KIND_ADBLOCK, N_KINDS };
enum { LINE_SKIP, LINE_RULE, LINE_OTHER };

typedef struct {
    Py_hash_t hash;
    PyObject *host;
    PyObject *path;
    uint8_t scope, action;
} SeenKey;

typedef struct {
    PyObject_HEAD
    SeenKey *keys;
    Py_ssize_t nkeys, capacity;
    uint64_t *slots; /* key index + 1, and the top half of the hash as a tag; 0 is empty */
    size_t nslots;   /* a power of two, at least twice nkeys */
} ReaderObject;

/* --- the set of rule keys seen --------------------------------------------------------- */

static inline int str_equal(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    return n == PyUnicode_GET_LENGTH(b) && PyUnicode_KIND(a) == PyUnicode_KIND(b) &&
           memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

static inline uint64_t mixed(Py_hash_t hash) { return (uint64_t)hash * 0x9E3779B97F4A7C15ULL; }
#define TAG(mix) ((mix) & 0xFFFFFFFF00000000ULL)

/* Room for want keys. */
static int seen_grow(ReaderObject *r, size_t want) {
    size_t nslots = r->nslots ? r->nslots : 1024;
    while (nslots < want * 2) nslots *= 2;
    if (nslots == r->nslots) return 0;
    uint64_t *slots = PyMem_Calloc(nslots, sizeof(uint64_t));
    if (slots == NULL) return -1;
    for (Py_ssize_t i = 0; i < r->nkeys; i++) {
        uint64_t mix = mixed(r->keys[i].hash);
        size_t at = (size_t)(mix >> 8) & (nslots - 1);
        while (slots[at]) at = (at + 1) & (nslots - 1);
        slots[at] = TAG(mix) | (uint64_t)(i + 1);
    }
    PyMem_Free(r->slots);
    r->slots = slots;
    r->nslots = nslots;
    if ((size_t)r->capacity < nslots / 2) {
        SeenKey *keys = PyMem_Realloc(r->keys, nslots / 2 * sizeof(SeenKey));
        if (keys == NULL) return -1;
        r->keys = keys;
        r->capacity = (Py_ssize_t)(nslots / 2);
    }
    return 0;
}

/* The hash of a rule key, -1 with an exception. */
static Py_hash_t key_hash(PyObject *host, PyObject *path, int scope, int action) {
    if (!PyUnicode_Check(host) || !PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_TypeError, "a rule's host and path are str");
        return -1;
    }
    Py_hash_t host_hash = PyObject_Hash(host), path_hash = PyObject_Hash(path);
    if (host_hash == -1 || path_hash == -1) return -1;
    Py_hash_t hash = (Py_hash_t)(((uint64_t)host_hash * 1000003ULL) ^ (uint64_t)path_hash ^
                                 ((uint64_t)(scope * 2 + action) << 56));
    return hash == -1 ? -2 : hash;
}

static inline void seen_prefetch(const ReaderObject *r, Py_hash_t hash) {
    if (r->nslots) __builtin_prefetch(&r->slots[(size_t)(mixed(hash) >> 8) & (r->nslots - 1)]);
}

/* 1: the key (whose key_hash is hash) is new, now added; 0: seen before; -1: error. */
static int seen_add(ReaderObject *r, Py_hash_t hash, PyObject *host, PyObject *path, int scope,
                    int action) {
    if ((size_t)(r->nkeys + 1) * 2 > r->nslots && seen_grow(r, (size_t)r->nkeys + 1) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    uint64_t mix = mixed(hash);
    size_t at = (size_t)(mix >> 8) & (r->nslots - 1);
    while (r->slots[at]) {
        if (TAG(r->slots[at]) == TAG(mix)) {
            SeenKey *key = &r->keys[(r->slots[at] & 0xFFFFFFFFULL) - 1];
            if (key->hash == hash && key->scope == scope && key->action == action &&
                str_equal(key->host, host) && str_equal(key->path, path))
                return 0;
        }
        at = (at + 1) & (r->nslots - 1);
    }
    SeenKey *key = &r->keys[r->nkeys];
    key->hash = hash;
    Py_INCREF(host);
    key->host = host;
    Py_INCREF(path);
    key->path = path;
    key->scope = (uint8_t)scope;
    key->action = (uint8_t)action;
    r->slots[at] = TAG(mix) | (uint64_t)(++r->nkeys);
    return 1;
}

static void reader_dealloc(ReaderObject *self) {
    for (Py_ssize_t i = 0; i < self->nkeys; i++) {
        Py_DECREF(self->keys[i].host);
        Py_DECREF(self->keys[i].path);
    }
    PyMem_Free(self->keys);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* --- one parse ------------------------------------------------------------------------- */

typedef struct {
    ReaderObject *reader;
    int kind, scope, action;
    PyObject *handler, *rejected, *skip_names, *rules;
    Py_ssize_t number, accepted, duplicates, skipped;
} Feed;

static inline int is_space(char c) { return native_chars[(unsigned char)c] & CH_SPACE; }

static void strip(const char **s, Py_ssize_t *n) {
    while (*n > 0 && is_space((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1])) (*n)--;
}

/* What an ASCII line is, when it has one of the shapes read here: skipped, or one rule whose
 * host is written to out (scope and action in *scope, *action); LINE_OTHER otherwise. */
static int fast_line(const Feed *f, const char *s, Py_ssize_t n, char *out, Py_ssize_t *host_len,
                     int *scope, int *action) {
    *action = f->action;
    if (f->kind == KIND_ADBLOCK) {
        strip(&s, &n);
        if (n == 0) return LINE_SKIP;
        if (s[0] == '!') return n >= 9 && memcmp(s, "!#include", 9) == 0 ? LINE_OTHER : LINE_SKIP;
        if (n >= 2 && s[0] == '@' && s[1] == '@') {
            s += 2;
            n -= 2;
            *action = ACTION_ALLOW;
        }
        if (n < 4 || s[0] != '|' || s[1] != '|' || s[n - 1] != '^') return LINE_OTHER;
        *scope = SCOPE_SUBTREE;
        *host_len = fast_host(s + 2, n - 3, out);
        return *host_len < 0 ? LINE_OTHER : LINE_RULE;
    }
    if (f->kind == KIND_GENERIC) return LINE_OTHER;
    const char *hash = memchr(s, '#', (size_t)n); /* _uncomment */
    if (hash != NULL) n = hash - s;
    strip(&s, &n);
    if (n == 0 || s[0] == '!') return LINE_SKIP;
    if (f->kind == KIND_HOSTS) {
        Py_ssize_t i = 0;
        while (i < n && !is_space(s[i])) i++;
        int sink = (i == 7 && memcmp(s, "0.0.0.0", 7) == 0) ||
                   (i == 9 && memcmp(s, "127.0.0.1", 9) == 0);
        while (i < n && is_space(s[i])) i++;
        Py_ssize_t name = i;
        while (i < n && !is_space(s[i])) i++;
        if (!sink || name == n || i != n) return LINE_OTHER; /* one name, after a sink */
        s += name;
        n -= name;
        *scope = SCOPE_EXACT;
    } else if (f->kind == KIND_WILDCARD) {
        if (n >= 2 && s[0] == '*' && s[1] == '.') {
            s += 2;
            n -= 2;
        }
        *scope = SCOPE_SUBTREE;
    } else {
        *scope = f->scope;
    }
    *host_len = fast_host(s, n, out);
    return *host_len < 0 ? LINE_OTHER : LINE_RULE;
}

/* Count a rule (host, scope, path, action) given by line f->number: 1 new, 0 duplicate. hash:
 * its key_hash, or -1 when not known yet. */
static int add_rule(Feed *f, PyObject *host, PyObject *scope, PyObject *path, PyObject *action,
                    int scope_code, int action_code, Py_hash_t hash) {
    if (hash == -1 && (hash = key_hash(host, path, scope_code, action_code)) == -1) return -1;
    int fresh = seen_add(f->reader, hash, host, path, scope_code, action_code);
    if (fresh <= 0) return fresh;
    PyObject *line = PyLong_FromSsize_t(f->number);
    if (line == NULL) return -1;
    PyObject *values[5] = {host, scope, action, path, line};
    PyObject *rule = slot_new(&native_state.rule, values);
    Py_DECREF(line);
    if (rule == NULL) return -1;
    int appended = PyList_Append(f->rules, rule);
    Py_DECREF(rule);
    return appended < 0 ? -1 : 1;
}

/* A handler's rule key: (host, scope, path, action). */
static int add_key(Feed *f, PyObject *key) {
    if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 4) {
        PyErr_SetString(PyExc_TypeError, "a rule key is (host, scope, path, action)");
        return -1;
    }
    PyObject *scope = PyTuple_GET_ITEM(key, 1), *action = PyTuple_GET_ITEM(key, 3);
    int scope_code = member_code(native_state.scopes, N_SCOPES, scope, "Scope");
    int action_code = member_code(native_state.actions, N_ACTIONS, action, "Action");
    if (scope_code < 0 || action_code < 0) return -1;
    return add_rule(f, PyTuple_GET_ITEM(key, 0), scope, PyTuple_GET_ITEM(key, 2), action,
                    scope_code, action_code, -1);
}

static int reject(Feed *f, PyObject *text, PyObject *reason) {
    PyObject *shown = PyObject_CallOneArg(native_state.shown, text);
    if (shown == NULL) return -1;
    PyObject *number = PyLong_FromSsize_t(f->number);
    if (number == NULL) {
        Py_DECREF(shown);
        return -1;
    }
    PyObject *values[3] = {number, shown, reason};
    PyObject *rejection = slot_new(&native_state.rejection, values);
    Py_DECREF(number);
    Py_DECREF(shown);
    if (rejection == NULL) return -1;
    int appended = PyList_Append(f->rejected, rejection);
    Py_DECREF(rejection);
    return appended;
}

/* The line through the format's Python handler, counted as formats._read counts it. */
static int handle(Feed *f, PyObject *line) {
    PyObject *outcome = PyObject_CallOneArg(f->handler, line);
    if (outcome == NULL) return -1;
    int status = 0;
    if (outcome == Py_None) {
        f->skipped++;
    } else if (PyTuple_Check(outcome)) {
        status = add_key(f, outcome);
        if (status >= 0) status == 1 ? f->accepted++ : f->duplicates++;
    } else if (PyUnicode_Check(outcome)) {
        PyObject *stripped = PyObject_CallMethod(line, "strip", NULL);
        status = stripped == NULL ? -1 : reject(f, stripped, outcome);
        Py_XDECREF(stripped);
    } else {
        PyObject *keys = PySequence_Fast(outcome, "a handler gives a key, keys, a reason or None");
        int fresh = 0;
        if (keys == NULL) status = -1;
        for (Py_ssize_t i = 0; status >= 0 && i < PySequence_Fast_GET_SIZE(keys); i++) {
            status = add_key(f, PySequence_Fast_GET_ITEM(keys, i));
            fresh |= status == 1;
        }
        if (status >= 0) fresh ? f->accepted++ : f->duplicates++;
        Py_XDECREF(keys);
    }
    Py_DECREF(outcome);
    return status < 0 ? -1 : 0;
}

/* An ASCII line, read in two steps so that lines can be taken a batch at a time: first what
 * its shape is (and for a rule, its host and the hash of its key, whose slot in the set of keys
 * is then fetched into the cache), then, in line order, how it counts. */
typedef struct {
    const char *s;
    Py_ssize_t n, number;
    PyObject *line; /* the same text as a str, if the caller has one (borrowed) */
    PyObject *host; /* LINE_RULE: the host (owned) */
    Py_hash_t hash;
    int shape, scope, action;
} Pending;

static int ascii_shape(Feed *f, Pending *p) {
    char out[MAX_NAME + 3];
    Py_ssize_t host_len = -1;
    p->host = NULL;
    p->shape = LINE_OTHER;
    if (p->n <= MAX_NAME + 16) /* longer lines never hold one plain name */
        p->shape = fast_line(f, p->s, p->n, out, &host_len, &p->scope, &p->action);
    if (p->shape != LINE_RULE) return 0;
    if ((p->host = ascii_str(out, host_len)) == NULL) return -1;
    p->hash = key_hash(p->host, native_state.empty, p->scope, p->action);
    if (p->hash == -1) return -1;
    seen_prefetch(f->reader, p->hash);
    return 0;
}

static int ascii_count(Feed *f, Pending *p) {
    f->number = p->number;
    if (p->shape == LINE_SKIP) {
        f->skipped++;
        return 0;
    }
    if (p->shape == LINE_RULE) {
        int boilerplate = 0; /* hosts: a name like localhost is Python's to judge */
        if (f->kind == KIND_HOSTS && (boilerplate = PySet_Contains(f->skip_names, p->host)) < 0)
            return -1;
        if (!boilerplate) {
            int status = add_rule(f, p->host, native_state.scopes[p->scope], native_state.empty,
                                  native_state.actions[p->action], p->scope, p->action, p->hash);
            if (status < 0) return -1;
            status == 1 ? f->accepted++ : f->duplicates++;
            return 0;
        }
    }
    PyObject *line = p->line, *owned = NULL;
    if (line == NULL && (line = owned = ascii_str(p->s, p->n)) == NULL) return -1;
    int status = handle(f, line);
    Py_XDECREF(owned);
    return status;
}

static int feed_ascii(Feed *f, const char *s, Py_ssize_t n, PyObject *line) {
    Pending p = {.s = s, .n = n, .number = f->number, .line = line};
    int status = ascii_shape(f, &p);
    if (status == 0) status = ascii_count(f, &p);
    Py_XDECREF(p.host);
    return status;
}

static int has_surrogate(PyObject *line) {
    int kind = PyUnicode_KIND(line);
    if (kind == PyUnicode_1BYTE_KIND) return 0;
    const void *data = PyUnicode_DATA(line);
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(line); i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0xD800 && c <= 0xDFFF) return 1;
    }
    return 0;
}

/* A line that is not ASCII: rejected when it is not UTF-8, else the handler's. */
static int feed_unicode(Feed *f, PyObject *line) {
    if (PyUnicode_IS_ASCII(line))
        return feed_ascii(f, (const char *)PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line), line);
    if (has_surrogate(line)) {
        PyObject *reason = PyUnicode_FromString("not valid UTF-8");
        if (reason == NULL) return -1;
        int status = reject(f, line, reason);
        Py_DECREF(reason);
        return status;
    }
    return handle(f, line);
}

static inline int all_ascii(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

#define BATCH 16

static void drop_batch(Pending *batch, int n) {
    for (int i = 0; i < n; i++) Py_XDECREF(batch[i].host);
}

/* Count the lines of a batch in order (and let go of their hosts). */
static int count_batch(Feed *f, Pending *batch, int n) {
    int status = 0;
    for (int i = 0; i < n && status == 0; i++) status = ascii_count(f, &batch[i]);
    drop_batch(batch, n);
    return status;
}

/* A file's bytes: lines split at \n, as formats._file_lines splits the decoded text. */
static int feed_bytes(Feed *f, const char *data, Py_ssize_t len) {
    size_t lines = 1; /* about one rule a line: size the set of keys once */
    for (const char *at = data; (at = memchr(at, '\n', (size_t)(data + len - at))) != NULL; at++)
        lines++;
    if (seen_grow(f->reader, (size_t)f->reader->nkeys + lines) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    Pending batch[BATCH];
    int pending = 0, status = 0;
    Py_ssize_t start = 0, number = 0;
    while (status == 0 && start < len) {
        const char *newline = memchr(data + start, '\n', (size_t)(len - start));
        Py_ssize_t end = newline ? newline - data : len;
        const char *s = data + start;
        Py_ssize_t n = end - start;
        start = end + 1;
        number++;
        while (n > 0 && s[n - 1] == '\r') n--;
        if (number == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
            s += 3;
            n -= 3;
        }
        if (all_ascii(s, n)) {
            Pending *p = &batch[pending++];
            *p = (Pending){.s = s, .n = n, .number = number};
            if (ascii_shape(f, p) < 0) {
                drop_batch(batch, pending);
                return -1;
            }
            if (pending == BATCH) {
                status = count_batch(f, batch, pending);
                pending = 0;
            }
            continue;
        }
        status = count_batch(f, batch, pending);
        pending = 0;
        if (status == 0) {
            PyObject *line = PyUnicode_DecodeUTF8(s, n, "surrogateescape");
            f->number = number;
            status = line == NULL ? -1 : feed_unicode(f, line);
            Py_XDECREF(line);
        }
    }
    if (status == 0) status = count_batch(f, batch, pending);
    else drop_batch(batch, pending);
    f->number = number;
    return status;
}

/* Lines as str: each loses its trailing \r and \n (and line 1 a byte-order mark). */
static int feed_lines(Feed *f, PyObject *lines) {
    PyObject *iterator = PyObject_GetIter(lines);
    if (iterator == NULL) return -1;
    PyObject *raw;
    int status = 0;
    while (status == 0 && (raw = PyIter_Next(iterator)) != NULL) {
        f->number++;
        if (!PyUnicode_Check(raw)) {
            PyErr_SetString(PyExc_TypeError, "lines must be str");
            status = -1;
        } else {
            Py_ssize_t len = PyUnicode_GET_LENGTH(raw), n = len;
            int kind = PyUnicode_KIND(raw);
            const void *data = PyUnicode_DATA(raw);
            while (n > 0) {
                Py_UCS4 c = PyUnicode_READ(kind, data, n - 1);
                if (c != '\r' && c != '\n') break;
                n--;
            }
            Py_ssize_t from = f->number == 1 && n > 0 && PyUnicode_READ(kind, data, 0) == 0xFEFF;
            if (PyUnicode_IS_ASCII(raw)) {
                status = feed_ascii(f, (const char *)data, n, n == len ? raw : NULL);
            } else {
                PyObject *line = PyUnicode_Substring(raw, from, n);
                status = line == NULL ? -1 : feed_unicode(f, line);
                Py_XDECREF(line);
            }
        }
        Py_DECREF(raw);
    }
    Py_DECREF(iterator);
    return status < 0 || PyErr_Occurred() ? -1 : 0;
}

static PyObject *reader_feed(ReaderObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"source", "kind",     "scope",      "action",
                               "handler", "rejected", "skip_names", NULL};
    PyObject *source, *handler, *rejected, *skip_names;
    Feed f = {.reader = self};
    if (native_check_ready() < 0) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OiiiOO!O!:feed", keywords, &source, &f.kind,
                                     &f.scope, &f.action, &handler, &PyList_Type, &rejected,
                                     &PyFrozenSet_Type, &skip_names))
        return NULL;
    if (f.kind < 0 || f.kind >= N_KINDS || f.scope < 0 || f.scope >= SCOPE_URL || f.action < 0 ||
        f.action >= N_ACTIONS) {
        PyErr_SetString(PyExc_ValueError, "kind, scope or action out of range");
        return NULL;
    }
    f.handler = handler;
    f.rejected = rejected;
    f.skip_names = skip_names;
    f.rules = PyList_New(0);
    if (f.rules == NULL) return NULL;
    int status;
    if (PyBytes_Check(source)) {
        status = feed_bytes(&f, PyBytes_AS_STRING(source), PyBytes_GET_SIZE(source));
    } else if (PyUnicode_Check(source)) {
        PyErr_SetString(PyExc_TypeError, "feed takes bytes or lines, not one str");
        status = -1;
    } else {
        status = feed_lines(&f, source);
    }
    if (status < 0) {
        Py_DECREF(f.rules);
        return NULL;
    }
    return Py_BuildValue("(Nnnnn)", f.rules, f.number, f.accepted, f.duplicates, f.skipped);
}

static PyMethodDef reader_methods[] = {
    {"feed", (PyCFunction)(void (*)(void))reader_feed, METH_VARARGS | METH_KEYWORDS,
     "Read one list: (rules, lines read, accepted, duplicates, skipped); rejections are "
     "appended to rejected."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject NativeReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "filters.engine._native.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The rules one parse has seen, and the reading of its lists.",
    .tp_methods = reader_methods,
    .tp_new = PyType_GenericNew,
};
