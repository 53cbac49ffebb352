/* A small YAML document tree built from libyaml's event parser, with
 * anchors, aliases and merge keys (`<<:` with one alias or a list of them)
 * resolved. Aliases share nodes (the tree is a DAG; no cycles are possible
 * because an anchor is usable only once its node is complete). All nodes
 * belong to the document and are freed with it. */
#ifndef P11_YAML_TREE_H
#define P11_YAML_TREE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { P11_YAML_SCALAR, P11_YAML_SEQ, P11_YAML_MAP } p11_yaml_kind;

typedef struct p11_ynode p11_ynode;
struct p11_ynode {
    p11_yaml_kind kind;
    char *value;       /* scalar text, NUL-terminated */
    size_t len;        /* its length */
    int plain;         /* unquoted scalar (null and the merge key exist only plain) */
    int line;          /* 1-based source line */
    p11_ynode **items; /* sequence: n items; mapping: n pairs as key, value */
    size_t n, cap;
    int state;       /* merge resolution: 0 pending, 1 in progress, 2 done */
    p11_ynode *next; /* every node of the document, for freeing */
};

typedef struct {
    p11_ynode *root;
    p11_ynode *all;
    size_t count;
    size_t pairs;
} p11_ydoc;

/* Limits that keep hostile input cheap (the fuzzer feeds anything). */
#define P11_YAML_MAX_NODES 20000
#define P11_YAML_MAX_DEPTH 64
#define P11_YAML_MAX_PAIRS 100000

/* Parses the first document of buf. Returns 0, or -1 with a message naming
 * the line in err. */
int p11_yaml_parse(const uint8_t *buf, size_t len, p11_ydoc *doc, char *err, size_t cap);
void p11_yaml_free(p11_ydoc *doc);

/* The value under key in a mapping (scalar keys compared by text), or NULL. */
const p11_ynode *p11_yaml_get(const p11_ynode *map, const char *key);
/* A plain scalar "", "~", "null" (any case) or a NULL node. */
int p11_yaml_is_null(const p11_ynode *n);

#endif
