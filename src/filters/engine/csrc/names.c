/* The fast paths of normalize.py, in C: plain ASCII names and plain http(s) URLs.
 *
 * They accept exactly what normalize.py's fast paths accept (_FAST_HOST_RE, _FAST_TARGET_RE and
 * the checks after them) or less, and answer as those do; anything else (IDN, xn-- labels, IP
 * literals, ports, userinfo, escapes, dot segments, other schemes, blanks) is left to Python.
 */
#include "native.h"

Py_ssize_t fast_host(const char *s, Py_ssize_t n, char *out) {
    if (n > 0 && s[n - 1] == '.') n--; /* one trailing dot */
    if (n <= 0 || n > MAX_NAME) return -1;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        uint8_t f = native_chars[c];
        if (f & CH_LABEL) {
            out[i] = (char)((f & CH_UPPER) ? c + 32 : c);
        } else if (c == '-') {
            if (i == start) return -1; /* a label never starts with a hyphen */
            out[i] = '-';
        } else if (c == '.') {
            Py_ssize_t len = i - start;
            if (len == 0 || len > MAX_LABEL || s[i - 1] == '-') return -1;
            out[i] = '.';
            start = i + 1;
        } else {
            return -1;
        }
    }
    Py_ssize_t len = n - start;
    if (len == 0 || len > MAX_LABEL || s[n - 1] == '-') return -1;
    /* A name whose last label starts with a digit may be an IPv4 literal: Python decides. */
    if (native_chars[(unsigned char)s[start]] & CH_DIGIT) return -1;
    /* xn-- labels need IDNA checks: Python's, cached there. */
    for (Py_ssize_t i = 0; i + 4 <= n; i++)
        if (out[i] == 'x' && out[i + 1] == 'n' && out[i + 2] == '-' && out[i + 3] == '-')
            return -1;
    return n;
}

int fast_target(const char *s, Py_ssize_t n, char *host, Py_ssize_t room, FastTarget *out) {
    Py_ssize_t i = 0;
    out->scheme = 0;
    if (n >= 7 && memcmp(s, "http://", 7) == 0) {
        i = 7;
        out->scheme = 1;
    } else if (n >= 8 && memcmp(s, "https://", 8) == 0) {
        i = 8;
        out->scheme = 1;
    }
    Py_ssize_t host_start = i;
    while (i < n && s[i] != '/') i++;
    if (i - host_start > room) return 0;
    out->host_len = fast_host(s + host_start, i - host_start, host);
    if (out->host_len < 0) return 0;
    out->path_start = -1;
    out->path_len = 0;
    if (i == n) return 1;
    Py_ssize_t path_start = i;
    while (i < n && (native_chars[(unsigned char)s[i]] & CH_PATH)) i++;
    Py_ssize_t path_end = i;
    if (i < n) {
        if (s[i] != '?' && s[i] != '#') return 0;
        for (; i < n; i++)
            if (native_chars[(unsigned char)s[i]] & CH_CONTROL) return 0;
    }
    /* Dot segments are resolved by Python (rare, and RFC 3986's algorithm has corners). */
    for (Py_ssize_t j = path_start; j + 1 < path_end; j++)
        if (s[j] == '/' && s[j + 1] == '.') return 0;
    out->path_start = path_start;
    out->path_len = path_end - path_start;
    return 1;
}
