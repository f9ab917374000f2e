/* Table: verdicts straight from a mapped snapshot (matcher.decide and matcher.classify in C).
 *
 * A Table reads the keys, sets and buckets arrays of the snapshot file in place (it holds a
 * buffer of the mmap) and keeps the rulesets of the header as packed structs, so a verdict
 * walks the labels of a name without creating a Python object until it has an answer; an
 * unlisted name (most lookups) returns the shared ALLOW_UNLISTED decision.
 */
#include "native.h"
#include "xxh64.h"

typedef struct {
    uint64_t mask;
    Py_ssize_t source;
    uint8_t scope, action;
    const char *path; /* UTF-8, owned by path_obj */
    Py_ssize_t path_len;
    Py_ssize_t path_chars; /* len() of the str: what URL rule levels count */
    PyObject *path_obj;
} NativeRule;

#define CACHE_SLOTS 64

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    int open;
    const uint64_t *keys;
    const uint32_t *sets;
    const uint32_t *buckets;
    Py_ssize_t count;
    int shift;
    NativeRule *rules;
    Py_ssize_t *starts; /* ruleset i is rules[starts[i]:starts[i + 1]] */
    Py_ssize_t nsets;
    PyObject *rulesets; /* the header's rulesets: they own the rules' path strings */
    PyObject *sources;
    PyObject *categories;
    Py_ssize_t ncategories;
    struct {
        uint64_t mask;
        PyObject *tuple;
    } cache[CACHE_SLOTS]; /* categories tuples by (rule mask & enabled) */
} TableObject;

/* --- construction ----------------------------------------------------------------------- */

static int read_rule(NativeRule *rule, PyObject *item) {
    if (!PyList_Check(item) || PyList_GET_SIZE(item) != 5) {
        PyErr_SetString(PyExc_ValueError, "a rule is [scope, action, mask, source, path]");
        return -1;
    }
    long scope = PyLong_AsLong(PyList_GET_ITEM(item, 0));
    long action = PyLong_AsLong(PyList_GET_ITEM(item, 1));
    unsigned long long mask = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(item, 2));
    Py_ssize_t source = PyLong_AsSsize_t(PyList_GET_ITEM(item, 3));
    PyObject *path = PyList_GET_ITEM(item, 4);
    if (PyErr_Occurred()) return -1;
    if (scope < 0 || scope >= N_SCOPES || action < 0 || action >= N_ACTIONS || source < 0 ||
        !PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_ValueError, "a rule out of range");
        return -1;
    }
    rule->scope = (uint8_t)scope;
    rule->action = (uint8_t)action;
    rule->mask = (uint64_t)mask;
    rule->source = source;
    rule->path = PyUnicode_AsUTF8AndSize(path, &rule->path_len);
    if (rule->path == NULL) return -1;
    rule->path_chars = PyUnicode_GET_LENGTH(path);
    rule->path_obj = path;
    return 0;
}

static int table_init(TableObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"buffer",   "offset",  "count",      "bucket_bits",
                               "rulesets", "sources", "categories", NULL};
    PyObject *buffer, *rulesets, *sources, *categories;
    Py_ssize_t offset, count;
    int bits;
    if (native_check_ready() < 0) return -1;
    if (self->open || self->rules != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Table is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OnniO!O!O!:Table", keywords, &buffer, &offset,
                                     &count, &bits, &PyList_Type, &rulesets, &PyList_Type,
                                     &sources, &PyList_Type, &categories))
        return -1;
    if (bits < 1 || bits > 32 || offset < 0 || offset % 8 || count < 0 || count > UINT32_MAX ||
        PyList_GET_SIZE(categories) > 64) {
        PyErr_SetString(PyExc_ValueError, "not a table this code can read");
        return -1;
    }
    Py_ssize_t nsets = PyList_GET_SIZE(rulesets), nrules = 0;
    for (Py_ssize_t i = 0; i < nsets; i++) {
        PyObject *set = PyList_GET_ITEM(rulesets, i);
        if (!PyList_Check(set)) {
            PyErr_SetString(PyExc_ValueError, "a ruleset is a list of rules");
            return -1;
        }
        nrules += PyList_GET_SIZE(set);
    }
    self->rules = PyMem_Calloc((size_t)nrules + 1, sizeof(NativeRule));
    self->starts = PyMem_Calloc((size_t)nsets + 1, sizeof(Py_ssize_t));
    if (self->rules == NULL || self->starts == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < nsets; i++) {
        PyObject *set = PyList_GET_ITEM(rulesets, i);
        self->starts[i] = at;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(set); j++)
            if (read_rule(&self->rules[at++], PyList_GET_ITEM(set, j)) < 0) return -1;
    }
    self->starts[nsets] = at;
    self->nsets = nsets;
    if (PyObject_GetBuffer(buffer, &self->view, PyBUF_SIMPLE) < 0) return -1;
    self->open = 1;
    size_t nbuckets = ((size_t)1 << bits) + 1;
    size_t need = (size_t)offset + 12 * (size_t)count + 4 * nbuckets;
    if ((size_t)self->view.len < need) {
        PyErr_SetString(PyExc_ValueError, "the snapshot file is shorter than its header says");
        return -1;
    }
    const char *base = (const char *)self->view.buf + offset;
    self->keys = (const uint64_t *)base;
    self->sets = (const uint32_t *)(base + 8 * count);
    self->buckets = (const uint32_t *)(base + 12 * count);
    self->count = count;
    self->shift = 64 - bits;
    Py_INCREF(rulesets);
    self->rulesets = rulesets;
    Py_INCREF(sources);
    self->sources = sources;
    Py_INCREF(categories);
    self->categories = categories;
    self->ncategories = PyList_GET_SIZE(categories);
    return 0;
}

static void table_release(TableObject *self) {
    if (self->open) {
        PyBuffer_Release(&self->view);
        self->open = 0;
    }
    self->keys = NULL;
}

static void table_dealloc(TableObject *self) {
    table_release(self);
    PyMem_Free(self->rules);
    PyMem_Free(self->starts);
    for (int i = 0; i < CACHE_SLOTS; i++) Py_XDECREF(self->cache[i].tuple);
    Py_XDECREF(self->rulesets);
    Py_XDECREF(self->sources);
    Py_XDECREF(self->categories);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* --- lookups ---------------------------------------------------------------------------- */

/* The ruleset of the name whose key is h: its index, -1 if unlisted, -2 if the file is
 * inconsistent (Python then raises what it raises for it). */
static inline Py_ssize_t table_find(const TableObject *t, uint64_t h) {
    uint64_t bucket = h >> t->shift;
    uint32_t end = t->buckets[bucket + 1];
    if (end > t->count) return -2;
    for (uint32_t i = t->buckets[bucket]; i < end; i++)
        if (t->keys[i] == h) return t->sets[i] < t->nsets ? (Py_ssize_t)t->sets[i] : -2;
    return -1;
}

/* matcher.path_matches: the prefix ends at a boundary of the request path. */
static inline int path_matches(const char *request, Py_ssize_t len, const NativeRule *rule) {
    Py_ssize_t n = rule->path_len;
    if (len < n || memcmp(request, rule->path, (size_t)n) != 0) return 0;
    if (len == n || (n > 0 && rule->path[n - 1] == '/')) return 1;
    char c = request[n];
    return c == '/' || c == '.' || c == '?' || c == ';' || c == '#';
}

static PyObject *categories_for(TableObject *t, uint64_t mask) {
    int slot = (int)((mask * 0x9E3779B97F4A7C15ULL) >> 58);
    if (t->cache[slot].tuple != NULL && t->cache[slot].mask == mask) return t->cache[slot].tuple;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < t->ncategories; i++) n += (mask >> i) & 1;
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL) return NULL;
    for (Py_ssize_t i = 0, at = 0; i < t->ncategories; i++) {
        if ((mask >> i) & 1) {
            PyObject *name = PyList_GET_ITEM(t->categories, i);
            Py_INCREF(name);
            PyTuple_SET_ITEM(tuple, at++, name);
        }
    }
    Py_XSETREF(t->cache[slot].tuple, tuple);
    t->cache[slot].mask = mask;
    return tuple;
}

static PyObject *make_decision(TableObject *t, const NativeRule *rule, uint64_t enabled,
                               PyObject *listed) {
    NativeState *st = &native_state;
    PyObject *categories = categories_for(t, rule->mask & enabled);
    if (categories == NULL) return NULL;
    PyObject *action = st->actions[rule->action];
    PyObject *decider_values[5] = {listed, st->scopes[rule->scope], action, rule->path_obj,
                                   PyList_GET_ITEM(t->sources, rule->source)};
    PyObject *decider = slot_new(&st->decider, decider_values);
    if (decider == NULL) return NULL;
    PyObject *decision_values[3] = {action, categories, decider};
    PyObject *decision = slot_new(&st->decision, decision_values);
    Py_DECREF(decider);
    return decision;
}

/* matcher.decide for an ASCII host and path. Returns a new reference to the decision, NULL with
 * an exception, or Py_None (borrowed) when Python must decide. host_obj: the host as a str, if
 * the caller has it. */
static PyObject *table_decide(TableObject *t, const char *host, Py_ssize_t len, PyObject *host_obj,
                              const char *path, Py_ssize_t path_len, uint64_t enabled, int is_ip) {
    if (t->keys == NULL) {
        PyErr_SetString(PyExc_ValueError, "the snapshot is closed");
        return NULL;
    }
    /* The keys of the name and each of its parents, and their buckets and first keys fetched
     * into the cache together: the table is larger than the cache, and a name's lookups then
     * wait for memory about twice instead of twice a label. */
    uint64_t keys[MAX_NAME / 2 + 2];
    Py_ssize_t nkeys = 0;
    for (Py_ssize_t at = 0; nkeys < (Py_ssize_t)(sizeof keys / sizeof *keys);) {
        uint64_t h = host_key(host + at, (size_t)(len - at));
        keys[nkeys++] = h;
        __builtin_prefetch(&t->buckets[h >> t->shift]);
        const char *dot = is_ip ? NULL : memchr(host + at, '.', (size_t)(len - at));
        if (dot == NULL) break;
        at = dot - host + 1;
    }
    for (Py_ssize_t i = 0; i < nkeys; i++) {
        uint32_t first = t->buckets[keys[i] >> t->shift];
        if (first < t->count) __builtin_prefetch(&t->keys[first]);
    }
    Py_ssize_t level = 1;
    for (Py_ssize_t i = 0; i < len; i++) level += host[i] == '.';
    const NativeRule *chosen = NULL;
    int chosen_allows = 0;
    Py_ssize_t best_level = -1, listed_at = 0, at = 0;
    int full = 1;
    for (Py_ssize_t label = 0;; label++) {
        Py_ssize_t set = label < nkeys ? table_find(t, keys[label])
                                       : table_find(t, host_key(host + at, (size_t)(len - at)));
        if (set == -2) return Py_None;
        if (set >= 0) {
            for (Py_ssize_t r = t->starts[set]; r < t->starts[set + 1]; r++) {
                const NativeRule *rule = &t->rules[r];
                if (!(rule->mask & enabled)) continue;
                Py_ssize_t rule_level = level * 4096;
                if (rule->scope == SCOPE_URL) {
                    if (path_len == 0 || !path_matches(path, path_len, rule)) continue;
                    rule_level += rule->path_chars < 4095 ? rule->path_chars : 4095;
                } else if (full ? rule->scope == SCOPE_SUBDOMAINS : rule->scope == SCOPE_EXACT) {
                    continue;
                }
                /* The most specific level wins; at that level the first allow, else the first
                 * rule (the levels of two names never overlap). */
                int allows = rule->action == ACTION_ALLOW;
                if (rule_level > best_level ||
                    (rule_level == best_level && allows && !chosen_allows)) {
                    best_level = rule_level;
                    chosen = rule;
                    chosen_allows = allows;
                    listed_at = at;
                }
            }
        }
        if (is_ip) break;
        const char *dot = memchr(host + at, '.', (size_t)(len - at));
        if (dot == NULL) break;
        at = dot - host + 1;
        level--;
        full = 0;
    }
    if (chosen == NULL) {
        Py_INCREF(native_state.allow_unlisted);
        return native_state.allow_unlisted;
    }
    if (chosen->source >= PyList_GET_SIZE(t->sources)) return Py_None;
    PyObject *listed;
    if (listed_at == 0 && host_obj != NULL) {
        Py_INCREF(host_obj);
        listed = host_obj;
    } else if ((listed = ascii_str(host + listed_at, len - listed_at)) == NULL) {
        return NULL;
    }
    PyObject *decision = make_decision(t, chosen, enabled, listed);
    Py_DECREF(listed);
    return decision;
}

static int read_enabled(PyObject *value, uint64_t *enabled) {
    if (!PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "enabled must be an int");
        return -1;
    }
    /* Rule masks have at most 64 bits: the low 64 bits of enabled (two's complement, as
     * Python's & sees a negative int) are all that matter. */
    *enabled = (uint64_t)PyLong_AsUnsignedLongLongMask(value);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *table_decide_method(TableObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "decide(host, path, enabled, is_ip)");
        return NULL;
    }
    PyObject *host = args[0], *path = args[1];
    uint64_t enabled;
    if (read_enabled(args[2], &enabled) < 0) return NULL;
    int is_ip = PyObject_IsTrue(args[3]);
    if (is_ip < 0) return NULL;
    if (!PyUnicode_Check(host) || !PyUnicode_IS_ASCII(host) || !PyUnicode_Check(path) ||
        !PyUnicode_IS_ASCII(path))
        Py_RETURN_NONE;
    PyObject *decision = table_decide(
        self, (const char *)PyUnicode_DATA(host), PyUnicode_GET_LENGTH(host), host,
        (const char *)PyUnicode_DATA(path), PyUnicode_GET_LENGTH(path), enabled, is_ip);
    if (decision == Py_None) Py_INCREF(decision);
    return decision;
}

static PyObject *table_classify(TableObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "classify(raw, enabled)");
        return NULL;
    }
    PyObject *raw = args[0];
    uint64_t enabled;
    if (read_enabled(args[1], &enabled) < 0) return NULL;
    if (!PyUnicode_Check(raw) || !PyUnicode_IS_ASCII(raw)) Py_RETURN_NONE;
    const char *s = (const char *)PyUnicode_DATA(raw);
    char host[MAX_NAME + 3];
    FastTarget parsed;
    if (!fast_target(s, PyUnicode_GET_LENGTH(raw), host, (Py_ssize_t)sizeof host, &parsed))
        Py_RETURN_NONE;
    NativeState *st = &native_state;
    PyObject *path;
    if (parsed.path_start < 0) {
        path = parsed.scheme ? st->slash : st->empty;
        Py_INCREF(path);
    } else if (parsed.path_len == 1) {
        path = st->slash;
        Py_INCREF(path);
    } else if ((path = ascii_str(s + parsed.path_start, parsed.path_len)) == NULL) {
        return NULL;
    }
    PyObject *host_obj = ascii_str(host, parsed.host_len);
    if (host_obj == NULL) {
        Py_DECREF(path);
        return NULL;
    }
    PyObject *decision =
        table_decide(self, host, parsed.host_len, host_obj, (const char *)PyUnicode_DATA(path),
                     PyUnicode_GET_LENGTH(path), enabled, 0);
    PyObject *result = NULL;
    if (decision == Py_None) { /* an inconsistent file: Python raises what it raises */
        Py_INCREF(Py_None);
        result = Py_None;
    } else if (decision != NULL) {
        PyObject *target_values[3] = {host_obj, path, Py_False};
        PyObject *target = slot_new(&st->target, target_values);
        if (target != NULL) {
            result = PyTuple_New(2);
            if (result != NULL) {
                PyTuple_SET_ITEM(result, 0, target);
                PyTuple_SET_ITEM(result, 1, decision);
                decision = NULL;
            } else {
                Py_DECREF(target);
            }
        }
        Py_XDECREF(decision);
    }
    Py_DECREF(host_obj);
    Py_DECREF(path);
    return result;
}

static PyObject *table_close(TableObject *self, PyObject *unused) {
    table_release(self);
    Py_RETURN_NONE;
}

static PyMethodDef table_methods[] = {
    {"classify", (PyCFunction)(void (*)(void))table_classify, METH_FASTCALL,
     "(Target, Decision) for a raw name or URL, or None when Python must answer."},
    {"decide", (PyCFunction)(void (*)(void))table_decide_method, METH_FASTCALL,
     "matcher.decide for a normalised host and path, or None when Python must answer."},
    {"close", (PyCFunction)table_close, METH_NOARGS, "Release the snapshot's buffer."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject NativeTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "filters.engine._native.Table",
    .tp_basicsize = sizeof(TableObject),
    .tp_dealloc = (destructor)table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The lookup side of a mapped snapshot: see snapshot.Snapshot.",
    .tp_methods = table_methods,
    .tp_init = (initproc)table_init,
    .tp_new = PyType_GenericNew,
};
