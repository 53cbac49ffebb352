/* libyaml events -> document tree -> aliases and merge keys resolved.
 * See yaml_tree.h. */
#include "yaml_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef struct {
    char *name;
    p11_ynode *node;
} anchor;

typedef struct {
    p11_ydoc *doc;
    anchor *anchors;
    size_t nanchors, capanchors;
    p11_ynode *stack[P11_YAML_MAX_DEPTH];
    char *pending_anchor[P11_YAML_MAX_DEPTH]; /* a container's anchor, registered at its end */
    size_t depth;
    char *err;
    size_t errcap;
} builder;

__attribute__((format(printf, 3, 4))) static int fail(builder *b, int line, const char *fmt, ...)
{
    va_list ap;
    int used = line > 0 ? snprintf(b->err, b->errcap, "line %d: ", line) : 0;
    if (used < 0 || (size_t)used >= b->errcap)
        used = 0;
    va_start(ap, fmt);
    vsnprintf(b->err + used, b->errcap - (size_t)used, fmt, ap);
    va_end(ap);
    return -1;
}

static p11_ynode *node_new(builder *b, p11_yaml_kind kind, int line)
{
    if (b->doc->count >= P11_YAML_MAX_NODES)
        return NULL;
    p11_ynode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->next = b->doc->all;
    b->doc->all = n;
    b->doc->count++;
    return n;
}

static int push_item(p11_ynode *parent, p11_ynode *child)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        p11_ynode **items = realloc(parent->items, cap * sizeof(*items));
        if (!items)
            return -1;
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* Adds a complete or just-opened node to the open container, or makes it
 * the root. */
static int attach(builder *b, p11_ynode *n, int line)
{
    if (b->depth == 0) {
        if (b->doc->root)
            return fail(b, line, "more than one root node");
        b->doc->root = n;
        return 0;
    }
    p11_ynode *parent = b->stack[b->depth - 1];
    if (parent->kind == P11_YAML_MAP && parent->n % 2 == 0 && n->kind != P11_YAML_SCALAR)
        return fail(b, line, "mapping keys must be scalars");
    if (push_item(parent, n) != 0)
        return fail(b, line, "out of memory");
    return 0;
}

static int add_anchor(builder *b, const char *name, p11_ynode *n, int line)
{
    if (!name)
        return 0;
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        anchor *a = realloc(b->anchors, cap * sizeof(*a));
        if (!a)
            return fail(b, line, "out of memory");
        b->anchors = a;
        b->capanchors = cap;
    }
    b->anchors[b->nanchors].name = strdup(name);
    if (!b->anchors[b->nanchors].name)
        return fail(b, line, "out of memory");
    b->anchors[b->nanchors++].node = n;
    return 0;
}

static p11_ynode *find_anchor(builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

static int on_scalar(builder *b, const yaml_event_t *ev, int line)
{
    p11_ynode *n = node_new(b, P11_YAML_SCALAR, line);
    if (!n)
        return fail(b, line, "document too large");
    n->len = ev->data.scalar.length;
    n->value = malloc(n->len + 1);
    if (!n->value)
        return fail(b, line, "out of memory");
    memcpy(n->value, ev->data.scalar.value, n->len);
    n->value[n->len] = '\0';
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (attach(b, n, line) != 0)
        return -1;
    return add_anchor(b, (const char *)ev->data.scalar.anchor, n, line);
}

static int on_open(builder *b, p11_yaml_kind kind, const yaml_char_t *anchor_name, int line)
{
    if (b->depth >= P11_YAML_MAX_DEPTH)
        return fail(b, line, "nesting deeper than %d", P11_YAML_MAX_DEPTH);
    p11_ynode *n = node_new(b, kind, line);
    if (!n)
        return fail(b, line, "document too large");
    if (attach(b, n, line) != 0)
        return -1;
    b->pending_anchor[b->depth] = anchor_name ? strdup((const char *)anchor_name) : NULL;
    if (anchor_name && !b->pending_anchor[b->depth])
        return fail(b, line, "out of memory");
    b->stack[b->depth++] = n;
    return 0;
}

static int on_close(builder *b, int line)
{
    if (b->depth == 0)
        return fail(b, line, "unbalanced end of collection");
    b->depth--;
    p11_ynode *n = b->stack[b->depth];
    char *name = b->pending_anchor[b->depth];
    b->pending_anchor[b->depth] = NULL;
    int rc = add_anchor(b, name, n, line);
    free(name);
    return rc;
}

static int on_alias(builder *b, const yaml_event_t *ev, int line)
{
    p11_ynode *n = find_anchor(b, (const char *)ev->data.alias.anchor);
    if (!n)
        return fail(b, line, "alias *%s names no complete anchor", ev->data.alias.anchor);
    return attach(b, n, line);
}

/* Feeds one event to the builder; *done is set at the end of the first
 * document. */
static int on_event(builder *b, const yaml_event_t *ev, int *done)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev, line);
    case YAML_SEQUENCE_START_EVENT:
        return on_open(b, P11_YAML_SEQ, ev->data.sequence_start.anchor, line);
    case YAML_MAPPING_START_EVENT:
        return on_open(b, P11_YAML_MAP, ev->data.mapping_start.anchor, line);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_close(b, line);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev, line);
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return 0;
    default:
        return 0;
    }
}

static int key_is(const p11_ynode *k, const char *text)
{
    return k && k->kind == P11_YAML_SCALAR && strcmp(k->value, text) == 0;
}

static int is_merge_key(const p11_ynode *k)
{
    return k->kind == P11_YAML_SCALAR && k->plain && strcmp(k->value, "<<") == 0;
}

static int has_key(const p11_ynode *pairs_owner, size_t npairs, const p11_ynode *key)
{
    for (size_t i = 0; i < npairs; i++)
        if (key_is(pairs_owner->items[2 * i], key->value))
            return 1;
    return 0;
}

static int resolve_map(builder *b, p11_ynode *m);

/* Appends src's pairs whose keys dst lacks (explicit keys and earlier
 * merge sources win). */
static int merge_from(builder *b, p11_ynode *dst, p11_ynode *src, int line)
{
    if (src->kind != P11_YAML_MAP)
        return fail(b, line, "merge key value must be a mapping or a list of mappings");
    if (resolve_map(b, src) != 0)
        return -1;
    for (size_t i = 0; i + 1 < src->n; i += 2) {
        if (has_key(dst, dst->n / 2, src->items[i]))
            continue;
        if (++b->doc->pairs > P11_YAML_MAX_PAIRS)
            return fail(b, line, "document too large after merges");
        if (push_item(dst, src->items[i]) != 0 || push_item(dst, src->items[i + 1]) != 0)
            return fail(b, line, "out of memory");
    }
    return 0;
}

/* Rebuilds m's pairs: explicit keys first (duplicates refused), then the
 * merged ones. Each mapping is resolved once. */
static int resolve_map(builder *b, p11_ynode *m)
{
    if (m->state == 2)
        return 0;
    if (m->state == 1)
        return fail(b, m->line, "recursive merge");
    m->state = 1;
    p11_ynode **old = m->items;
    size_t oldn = m->n;
    m->items = NULL;
    m->n = m->cap = 0;
    int rc = 0;
    if (oldn % 2 != 0)
        rc = fail(b, m->line, "mapping with a key and no value");
    for (size_t i = 0; rc == 0 && i + 1 < oldn; i += 2) {
        if (is_merge_key(old[i]))
            continue;
        if (has_key(m, m->n / 2, old[i]))
            rc = fail(b, old[i]->line, "duplicate key '%s'", old[i]->value);
        else if (push_item(m, old[i]) != 0 || push_item(m, old[i + 1]) != 0)
            rc = fail(b, old[i]->line, "out of memory");
        else if (++b->doc->pairs > P11_YAML_MAX_PAIRS)
            rc = fail(b, old[i]->line, "document too large");
    }
    for (size_t i = 0; rc == 0 && i + 1 < oldn; i += 2) {
        if (!is_merge_key(old[i]))
            continue;
        p11_ynode *v = old[i + 1];
        if (v->kind == P11_YAML_SEQ) {
            for (size_t k = 0; rc == 0 && k < v->n; k++)
                rc = merge_from(b, m, v->items[k], old[i]->line);
        } else {
            rc = merge_from(b, m, v, old[i]->line);
        }
    }
    free(old);
    m->state = 2;
    return rc;
}

static int resolve_all(builder *b)
{
    for (p11_ynode *n = b->doc->all; n; n = n->next)
        if (n->kind == P11_YAML_MAP && resolve_map(b, n) != 0)
            return -1;
    return 0;
}

static void builder_clear(builder *b)
{
    for (size_t i = 0; i < b->nanchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    for (size_t i = 0; i < P11_YAML_MAX_DEPTH; i++)
        free(b->pending_anchor[i]);
}

int p11_yaml_parse(const uint8_t *buf, size_t len, p11_ydoc *doc, char *err, size_t cap)
{
    builder b;
    yaml_parser_t parser;
    int rc = -1, done = 0;

    memset(doc, 0, sizeof(*doc));
    memset(&b, 0, sizeof(b));
    b.doc = doc;
    b.err = err;
    b.errcap = cap;
    if (cap)
        err[0] = '\0';
    if (!yaml_parser_initialize(&parser)) {
        fail(&b, 0, "out of memory");
        goto out_noparser;
    }
    yaml_parser_set_input_string(&parser, buf, len);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            fail(&b, (int)parser.problem_mark.line + 1, "%s",
                 parser.problem ? parser.problem : "syntax error");
            goto out;
        }
        int r = on_event(&b, &ev, &done);
        yaml_event_delete(&ev);
        if (r != 0)
            goto out;
    }
    if (!doc->root) {
        fail(&b, 0, "empty document");
        goto out;
    }
    rc = resolve_all(&b);
out:
    yaml_parser_delete(&parser);
out_noparser:
    builder_clear(&b);
    if (rc != 0)
        p11_yaml_free(doc);
    return rc;
}

void p11_yaml_free(p11_ydoc *doc)
{
    p11_ynode *n = doc->all;
    while (n) {
        p11_ynode *next = n->next;
        free(n->value);
        free(n->items);
        free(n);
        n = next;
    }
    memset(doc, 0, sizeof(*doc));
}

const p11_ynode *p11_yaml_get(const p11_ynode *map, const char *key)
{
    if (!map || map->kind != P11_YAML_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (key_is(map->items[i], key))
            return map->items[i + 1];
    return NULL;
}

int p11_yaml_is_null(const p11_ynode *n)
{
    if (!n)
        return 1;
    if (n->kind != P11_YAML_SCALAR || !n->plain)
        return 0;
    return n->len == 0 || strcmp(n->value, "~") == 0 || strcasecmp(n->value, "null") == 0;
}
