/* filters.engine._native: what the module's C files share.
 *
 * The native engine mirrors the pure-Python one (normalize.py, formats.py, snapshot.py,
 * matcher.py) on the inputs it recognises and hands everything else back to Python, so the two
 * give the same answers by construction: a fast path here either produces exactly what the
 * Python fast path would, or says "not mine".
 */
#ifndef FILTERS_NATIVE_H
#define FILTERS_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define NATIVE_OBJECT_EX T_OBJECT_EX
#else
#define NATIVE_OBJECT_EX Py_T_OBJECT_EX
#endif

/* The snapshot's codes (snapshot.SCOPE_CODES and ACTION_CODES). */
enum { SCOPE_EXACT = 0, SCOPE_SUBTREE = 1, SCOPE_SUBDOMAINS = 2, SCOPE_URL = 3, N_SCOPES = 4 };
enum { ACTION_BLOCK = 0, ACTION_ALLOW = 1, N_ACTIONS = 2 };

#define MAX_NAME 253
#define MAX_LABEL 63

/* A frozen slotted dataclass (Rule, Target, Decision...) whose instances C creates and reads
 * through the slot offsets its member descriptors publish, as the descriptors themselves do. */
#define MAX_SLOTS 6
typedef struct {
    PyTypeObject *type;
    int n;
    Py_ssize_t offset[MAX_SLOTS];
    PyObject *name[MAX_SLOTS]; /* for objects of other types: plain attribute access */
} SlotClass;

typedef struct {
    int ready;
    SlotClass rule, rejection, target, decision, decider;
    PyObject *scopes[N_SCOPES];   /* Scope members by code */
    PyObject *actions[N_ACTIONS]; /* Action members by code */
    PyObject *allow_unlisted;     /* matcher.ALLOW_UNLISTED */
    PyObject *shown;              /* _common._shown */
    PyObject *empty;              /* "" */
    PyObject *slash;              /* "/" */
} NativeState;

extern NativeState native_state;

/* A new instance of cls with values (borrowed) in slot order. */
PyObject *slot_new(const SlotClass *cls, PyObject *const *values);
/* Slot i of obj, a new reference (NULL with an exception if it is missing). */
PyObject *slot_get(const SlotClass *cls, PyObject *obj, int i);
/* The code of a Scope or Action member; -1 with a TypeError if it is none of them. */
int member_code(PyObject *const *members, int n, PyObject *value, const char *what);
int native_check_ready(void);

/* Character classes of ASCII, for the line and name scanners. */
enum {
    CH_LABEL = 1,  /* A-Z a-z 0-9 _ */
    CH_DIGIT = 2,  /* 0-9 */
    CH_PATH = 4,   /* what a path may hold raw: A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / */
    CH_SPACE = 8,  /* what str.strip() and str.split() take for blanks */
    CH_CONTROL = 16, /* \x00-\x1f and \x7f */
    CH_UPPER = 32,
};
extern uint8_t native_chars[256];
void native_chars_init(void);

/* normalize_host's fast path on ASCII text: writes the host (lowercase, no trailing dot) to out
 * (room for n bytes) and returns its length, or -1 when the fast path would not take it. */
Py_ssize_t fast_host(const char *s, Py_ssize_t n, char *out);

/* normalize_target's fast path on ASCII text. */
typedef struct {
    Py_ssize_t host_len;   /* the host is written to the caller's buffer */
    Py_ssize_t path_start; /* -1: no path given */
    Py_ssize_t path_len;
    int scheme;
} FastTarget;
int fast_target(const char *s, Py_ssize_t n, char *host, Py_ssize_t room, FastTarget *out);

/* A str holding ASCII bytes. */
PyObject *ascii_str(const char *s, Py_ssize_t n);

extern PyTypeObject NativeTableType;
extern PyTypeObject NativeReaderType;
PyObject *native_build(PyObject *module, PyObject *sources);

#endif
