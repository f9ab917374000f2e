/* filters.engine._native: the module, its set-up and the helpers every part uses.
 *
 * filters/engine/_accel.py imports this module and calls setup() once with the Python classes
 * and constants the native code produces (Rule, Target, Decision...), so that what C returns
 * is made of the very objects the Python engine returns.
 */
#include "native.h"
#include "xxh64.h"

NativeState native_state;
uint8_t native_chars[256];

void native_chars_init(void) {
    const char *path_extra = "-._~!$&'()*+,;=:@/";
    for (int c = 0; c < 256; c++) {
        uint8_t f = 0;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            f |= CH_LABEL | CH_PATH;
        if (c >= '0' && c <= '9') f |= CH_DIGIT;
        if (c >= 'A' && c <= 'Z') f |= CH_UPPER;
        if (c && strchr(path_extra, c)) f |= CH_PATH;
        /* str.isspace() in ASCII: \t \n \v \f \r, the separators \x1c-\x1f and the space. */
        if ((c >= 9 && c <= 13) || (c >= 28 && c <= 32)) f |= CH_SPACE;
        if (c < 32 || c == 127) f |= CH_CONTROL;
        native_chars[c] = f;
    }
}

PyObject *ascii_str(const char *s, Py_ssize_t n) {
    PyObject *str = PyUnicode_New(n, 127);
    if (str != NULL) memcpy(PyUnicode_DATA(str), s, (size_t)n);
    return str;
}

/* --- slotted dataclasses --------------------------------------------------------------- */

static int slot_class_init(SlotClass *cls, PyObject *type, const char *const *names, int n) {
    if (!PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "setup() expects classes");
        return -1;
    }
    Py_XDECREF(cls->type);
    for (int i = 0; i < cls->n; i++) Py_CLEAR(cls->name[i]);
    Py_INCREF(type);
    cls->type = (PyTypeObject *)type;
    cls->n = 0;
    for (int i = 0; i < n; i++) {
        PyObject *descr = PyObject_GetAttrString(type, names[i]);
        if (descr == NULL) return -1;
        if (!Py_IS_TYPE(descr, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)descr)->d_member->type != NATIVE_OBJECT_EX) {
            PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", cls->type->tp_name,
                         names[i]);
            Py_DECREF(descr);
            return -1;
        }
        cls->offset[i] = ((PyMemberDescrObject *)descr)->d_member->offset;
        Py_DECREF(descr);
        cls->name[i] = PyUnicode_InternFromString(names[i]);
        if (cls->name[i] == NULL) return -1;
        cls->n = i + 1;
    }
    return 0;
}

PyObject *slot_new(const SlotClass *cls, PyObject *const *values) {
    PyObject *obj = cls->type->tp_alloc(cls->type, 0);
    if (obj == NULL) return NULL;
    for (int i = 0; i < cls->n; i++) {
        Py_INCREF(values[i]);
        *(PyObject **)((char *)obj + cls->offset[i]) = values[i];
    }
    /* These frozen objects hold strings, numbers, enum members and other such frozen objects:
     * they can never be part of a reference cycle, so the cyclic collector need not visit the
     * million a list gives (CPython untracks tuples of atoms for the same reason). */
    if (PyObject_IS_GC(obj)) PyObject_GC_UnTrack(obj);
    return obj;
}

PyObject *slot_get(const SlotClass *cls, PyObject *obj, int i) {
    if (Py_TYPE(obj) == cls->type) {
        PyObject *value = *(PyObject **)((char *)obj + cls->offset[i]);
        if (value != NULL) {
            Py_INCREF(value);
            return value;
        }
    }
    return PyObject_GetAttr(obj, cls->name[i]);
}

int member_code(PyObject *const *members, int n, PyObject *value, const char *what) {
    for (int i = 0; i < n; i++)
        if (members[i] == value) return i;
    for (int i = 0; i < n; i++) {
        int equal = PyObject_RichCompareBool(members[i], value, Py_EQ);
        if (equal < 0) return -1;
        if (equal) return i;
    }
    PyErr_Format(PyExc_TypeError, "not a %s: %R", what, value);
    return -1;
}

int native_check_ready(void) {
    if (!native_state.ready) {
        PyErr_SetString(PyExc_RuntimeError, "filters.engine._native: setup() was not called");
        return -1;
    }
    return 0;
}

static int members_init(PyObject **slots, int n, PyObject *seq, const char *what) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence");
    if (fast == NULL) return -1;
    if (PySequence_Fast_GET_SIZE(fast) != n) {
        PyErr_Format(PyExc_ValueError, "expected %d %s members", n, what);
        Py_DECREF(fast);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        Py_INCREF(item);
        Py_XSETREF(slots[i], item);
    }
    Py_DECREF(fast);
    return 0;
}

/* --- module functions ---------------------------------------------------------------- */

static PyObject *native_setup(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"rule",   "rejection",      "target", "decision", "decider",
                               "scopes", "actions", "allow_unlisted", "shown",    NULL};
    PyObject *rule, *rejection, *target, *decision, *decider, *scopes, *actions, *allow, *shown;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "$OOOOOOOOO:setup", keywords, &rule,
                                     &rejection, &target, &decision, &decider, &scopes,
                                     &actions, &allow, &shown))
        return NULL;
    static const char *const rule_slots[] = {"host", "scope", "action", "path", "line"};
    static const char *const rejection_slots[] = {"line", "text", "reason"};
    static const char *const target_slots[] = {"host", "path", "is_ip"};
    static const char *const decision_slots[] = {"action", "categories", "rule"};
    static const char *const decider_slots[] = {"host", "scope", "action", "path", "source"};
    NativeState *st = &native_state;
    st->ready = 0;
    if (slot_class_init(&st->rule, rule, rule_slots, 5) < 0 ||
        slot_class_init(&st->rejection, rejection, rejection_slots, 3) < 0 ||
        slot_class_init(&st->target, target, target_slots, 3) < 0 ||
        slot_class_init(&st->decision, decision, decision_slots, 3) < 0 ||
        slot_class_init(&st->decider, decider, decider_slots, 5) < 0 ||
        members_init(st->scopes, N_SCOPES, scopes, "Scope") < 0 ||
        members_init(st->actions, N_ACTIONS, actions, "Action") < 0)
        return NULL;
    if (!PyCallable_Check(shown)) {
        PyErr_SetString(PyExc_TypeError, "shown must be callable");
        return NULL;
    }
    Py_INCREF(allow);
    Py_XSETREF(st->allow_unlisted, allow);
    Py_INCREF(shown);
    Py_XSETREF(st->shown, shown);
    if (st->empty == NULL && (st->empty = PyUnicode_InternFromString("")) == NULL) return NULL;
    if (st->slash == NULL && (st->slash = PyUnicode_InternFromString("/")) == NULL) return NULL;
    st->ready = 1;
    Py_RETURN_NONE;
}

static PyObject *native_xxh64(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"data", "seed", NULL};
    Py_buffer data;
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|K:xxh64", keywords, &data, &seed))
        return NULL;
    uint64_t h = xxh64(data.buf, (size_t)data.len, (uint64_t)seed);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLongLong(h);
}

static PyMethodDef native_methods[] = {
    {"setup", (PyCFunction)(void (*)(void))native_setup, METH_VARARGS | METH_KEYWORDS,
     "Hand the engine's Python classes and constants to the native code (once, at import)."},
    {"xxh64", (PyCFunction)(void (*)(void))native_xxh64, METH_VARARGS | METH_KEYWORDS,
     "XXH64 of a bytes-like object, as xxhash.xxh64_intdigest gives it."},
    {"build", (PyCFunction)native_build, METH_O,
     "The snapshot table of [(rules, category mask), ...]: see snapshot.compile_snapshot."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "filters.engine._native",
    "The native hot paths of the filter engine; see filters/engine/_accel.py.", -1,
    native_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    native_chars_init();
    if (PyType_Ready(&NativeTableType) < 0 || PyType_Ready(&NativeReaderType) < 0) return NULL;
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL) return NULL;
    Py_INCREF(&NativeTableType);
    if (PyModule_AddObject(module, "Table", (PyObject *)&NativeTableType) < 0) {
        Py_DECREF(&NativeTableType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&NativeReaderType);
    if (PyModule_AddObject(module, "Reader", (PyObject *)&NativeReaderType) < 0) {
        Py_DECREF(&NativeReaderType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
