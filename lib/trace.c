/*
 * lib/trace.c: trace files (fp8lab/trace.h, docs/trace-format.md): the
 * reader of the H100 traces in data/ and of fp8lab's own recordings, and
 * the writer of the latter.
 *
 * Reading is two-phase so that a malformed file is rejected before any
 * large allocation: every dataset of a group is first probed (link kind,
 * object type, dataspace, datatype) and the shapes are checked against each
 * other; only then is memory allocated and data read.  HDF5's automatic
 * error printing is off for the duration of every public call; the
 * innermost message of its error stack goes into the caller's err.
 */
#include "h5util.h"
#include "fp8lab/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Groups nested deeper than this, or more of them, are taken for a broken
 * (cyclic) file. */
#define MAX_DEPTH 32
#define MAX_GROUPS 100000
/* Length of the buffers for HDF5 messages. */
#define MSGLEN 256
/* Codes per K tile of the block-wise scales. */
#define SCALE_TILE 128

/* ---- errors and HDF5's error stack -------------------------------------- */


__attribute__((format(printf, 3, 4))) static int seterr(char *err,
                                                        size_t errlen,
                                                        const char *fmt,
                                                        ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static char *xstrdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* ---- small helpers ------------------------------------------------------ */

const char *fp8lab_trace_dtype_name(fp8lab_trace_dtype t) {
  switch (t) {
  case FP8LAB_TRACE_F32: return "f32";
  case FP8LAB_TRACE_F16: return "f16";
  case FP8LAB_TRACE_BF16: return "bf16";
  default: return "none";
  }
}

const fp8lab_format *fp8lab_trace_dtype_format(fp8lab_trace_dtype t) {
  switch (t) {
  case FP8LAB_TRACE_F32: return fp8lab_f32;
  case FP8LAB_TRACE_F16: return fp8lab_f16;
  case FP8LAB_TRACE_BF16: return fp8lab_bf16;
  default: return NULL;
  }
}

size_t fp8lab_trace_dtype_size(fp8lab_trace_dtype t) {
  switch (t) {
  case FP8LAB_TRACE_F32: return 4;
  case FP8LAB_TRACE_F16:
  case FP8LAB_TRACE_BF16: return 2;
  default: return 0;
  }
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The value type an output's name ends in, or NONE. */
static fp8lab_trace_dtype name_dtype(const char *name) {
  if (ends_with(name, "_bf16")) return FP8LAB_TRACE_BF16;
  if (ends_with(name, "_f16")) return FP8LAB_TRACE_F16;
  if (ends_with(name, "_f32")) return FP8LAB_TRACE_F32;
  return FP8LAB_TRACE_NONE;
}

static int parse_dtype(const char *s, fp8lab_trace_dtype *t) {
  if (strcmp(s, "f32") == 0) *t = FP8LAB_TRACE_F32;
  else if (strcmp(s, "f16") == 0) *t = FP8LAB_TRACE_F16;
  else if (strcmp(s, "bf16") == 0) *t = FP8LAB_TRACE_BF16;
  else return -1;
  return 0;
}

bool fp8lab_trace_output_kind(const char *name, fp8lab_scale_mode *scales,
                              bool *fast) {
  static const struct {
    const char *word;
    fp8lab_scale_mode mode;
  } modes[] = {{"tensor", FP8LAB_SCALE_TENSOR},
               {"rowwise", FP8LAB_SCALE_ROWWISE},
               {"blockwise", FP8LAB_SCALE_BLOCKWISE}};
  fp8lab_scale_mode s = FP8LAB_SCALE_NONE;
  bool f = false;
  if (strcmp(name, "D") == 0) goto done;
  if (strncmp(name, "D_", 2) != 0) return false;
  const char *r = name + 2;
  if (strcmp(r, "fast") == 0) {
    f = true;
    goto done;
  }
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    size_t len = strlen(modes[i].word);
    if (strncmp(r, modes[i].word, len) != 0 || r[len] != '_') continue;
    const char *rest = r + len + 1;
    bool rf = false;
    if (strncmp(rest, "fast_", 5) == 0) {
      rf = true;
      rest += 5;
    }
    fp8lab_trace_dtype t;
    if (parse_dtype(rest, &t) == 0) {
      s = modes[i].mode;
      f = rf;
    }
    break;
  }
done:
  if (scales) *scales = s;
  if (fast) *fast = f;
  return true;
}

/* A token of a group-path component as an operand format: "e4m3" is the
 * NVIDIA / OCP E4M3 (fp8lab's e4m3fn) as the recorders name it; anything
 * else is an fp8lab format name of at most 8 bits. */
static bool path_format(const char *tok, fp8lab_format *f) {
  if (strcmp(tok, "e4m3") == 0) {
    *f = *fp8lab_e4m3fn;
    return true;
  }
  fp8lab_format p;
  if (fp8lab_format_parse(tok, &p, NULL, 0) != 0) return false;
  if (fp8lab_format_bits(&p) > 8) return false;
  *f = p;
  return true;
}

/* The deepest component of `path` that reads <a>_<b>[_...]. */
static bool formats_from_path(const char *path, fp8lab_format *fa,
                              fp8lab_format *fb) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  bool found = false;
  char *save = NULL;
  for (char *comp = strtok_r(buf, "/", &save); comp;
       comp = strtok_r(NULL, "/", &save)) {
    char t1[64], t2[64];
    const char *u1 = strchr(comp, '_');
    if (!u1) continue;
    const char *u2 = strchr(u1 + 1, '_');
    size_t l1 = (size_t)(u1 - comp);
    size_t l2 = u2 ? (size_t)(u2 - u1 - 1) : strlen(u1 + 1);
    if (l1 == 0 || l2 == 0 || l1 >= sizeof t1 || l2 >= sizeof t2) continue;
    memcpy(t1, comp, l1);
    t1[l1] = '\0';
    memcpy(t2, u1 + 1, l2);
    t2[l2] = '\0';
    fp8lab_format a, b;
    if (path_format(t1, &a) && path_format(t2, &b)) {
      *fa = a;
      *fb = b;
      found = true;
    }
  }
  return found;
}

/* Natural order: digit runs compare as numbers (K32 < K128). */
static int natural_cmp(const char *a, const char *b) {
  while (*a && *b) {
    if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
      const char *ea = a, *eb = b;
      while (*a == '0') a++;
      while (*b == '0') b++;
      const char *sa = a, *sb = b;
      while (*a >= '0' && *a <= '9') a++;
      while (*b >= '0' && *b <= '9') b++;
      size_t la = (size_t)(a - sa), lb = (size_t)(b - sb);
      if (la != lb) return la < lb ? -1 : 1;
      int c = memcmp(sa, sb, la);
      if (c) return c;
      /* equal values: fewer leading zeros first */
      size_t za = (size_t)(sa - ea), zb = (size_t)(sb - eb);
      if (za != zb) return za < zb ? -1 : 1;
      continue;
    }
    if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

static int natural_qsort(const void *x, const void *y) {
  return natural_cmp(*(char *const *)x, *(char *const *)y);
}

/* ---- the JSON list of family names -------------------------------------- */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse ["a", "b", ...] into a malloc'd array of strings.  Returns 0, or -1
 * with *why set. */
static int parse_json_strings(const char *s, char ***out, size_t *n,
                              const char **why) {
  char **list = NULL;
  size_t cnt = 0, cap = 0;
  const char *p = skip_ws(s);
  *why = "not a JSON list of strings";
  if (*p++ != '[') goto fail;
  p = skip_ws(p);
  if (*p == ']') {
    p++;
    goto end;
  }
  for (;;) {
    if (*p++ != '"') goto fail;
    size_t blen = strlen(p) + 1;
    char *str = malloc(blen), *q = str;
    if (!str) {
      *why = "out of memory";
      goto fail;
    }
    while (*p && *p != '"') {
      if ((unsigned char)*p < 0x20) {
        free(str);
        *why = "control character inside a JSON string";
        goto fail;
      }
      if (*p != '\\') {
        *q++ = *p++;
        continue;
      }
      p++;
      switch (*p) {
      case '"': case '\\': case '/': *q++ = *p++; break;
      case 'b': *q++ = '\b'; p++; break;
      case 'f': *q++ = '\f'; p++; break;
      case 'n': *q++ = '\n'; p++; break;
      case 'r': *q++ = '\r'; p++; break;
      case 't': *q++ = '\t'; p++; break;
      case 'u': {
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
          int h = hexval(p[i]);
          if (h < 0) {
            free(str);
            *why = "bad \\u escape in a JSON string";
            goto fail;
          }
          cp = cp * 16 + (unsigned)h;
        }
        p += 5;
        if (cp < 0x80) {
          *q++ = (char)cp;
        } else if (cp < 0x800) {
          *q++ = (char)(0xC0 | (cp >> 6));
          *q++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *q++ = (char)(0xE0 | (cp >> 12));
          *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *q++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        free(str);
        *why = "bad escape in a JSON string";
        goto fail;
      }
    }
    if (*p != '"') {
      free(str);
      *why = "unterminated JSON string";
      goto fail;
    }
    p++;
    *q = '\0';
    if (cnt == cap) {
      size_t ncap = cap ? 2 * cap : 16;
      char **nl = realloc(list, ncap * sizeof *nl);
      if (!nl) {
        free(str);
        *why = "out of memory";
        goto fail;
      }
      list = nl;
      cap = ncap;
    }
    list[cnt++] = str;
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == ']') {
      p++;
      break;
    }
    goto fail;
  }
end:
  p = skip_ws(p);
  if (*p) {
    *why = "text after the JSON list";
    goto fail;
  }
  *out = list;
  *n = cnt;
  return 0;
fail:
  for (size_t i = 0; i < cnt; i++) free(list[i]);
  free(list);
  return -1;
}

/* ---- attributes ---------------------------------------------------------- */

/* Read string attribute `name` of obj.  Returns 1 and a malloc'd string,
 * 0 when absent, -1 when present but not a readable scalar string (why set). */
static int read_str_attr(hid_t obj, const char *name, char **out,
                         const char **why) {
  *out = NULL;
  htri_t ex = H5Aexists(obj, name);
  if (ex == 0) return 0;
  *why = "cannot be read";
  if (ex < 0) return -1;
  int rc = -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
  hid_t mt = -1;
  if (t < 0 || sp < 0) goto done;
  if (H5Tget_class(t) != H5T_STRING) {
    *why = "is not a string";
    goto done;
  }
  hssize_t npts = H5Sget_simple_extent_npoints(sp);
  if (npts != 1) {
    *why = "is not a single string";
    goto done;
  }
  htri_t vl = H5Tis_variable_str(t);
  if (vl < 0) goto done;
  mt = H5Tcopy(H5T_C_S1);
  if (mt < 0) goto done;
  H5Tset_cset(mt, H5Tget_cset(t));
  if (vl) {
    char *s = NULL;
    if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &s) < 0) goto done;
    *out = xstrdup(s ? s : "");
    if (s) H5free_memory(s);
  } else {
    size_t sz = H5Tget_size(t);
    if (sz == 0 || sz > ((size_t)1 << 30)) goto done;
    char *s = calloc(sz + 1, 1);
    if (!s || H5Tset_size(mt, sz) < 0 ||
        H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 || H5Aread(a, mt, s) < 0) {
      free(s);
      goto done;
    }
    s[sz] = '\0';
    *out = s;
  }
  if (!*out) {
    *why = "out of memory";
    goto done;
  }
  rc = 1;
done:
  if (mt >= 0) H5Tclose(mt);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  H5Eclear2(H5E_DEFAULT);
  return rc;
}

/* Read a float32 scalar attribute: 1 read, 0 absent, -1 malformed. */
static int read_f32_attr(hid_t obj, const char *name, float *v,
                         const char **why) {
  htri_t ex = H5Aexists(obj, name);
  if (ex == 0) return 0;
  *why = "cannot be read";
  if (ex < 0) return -1;
  int rc = -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
  if (t < 0 || sp < 0) goto done;
  if (H5Tget_class(t) != H5T_FLOAT || H5Tget_size(t) != 4) {
    *why = "is not a float32 value";
    goto done;
  }
  if (H5Sget_simple_extent_npoints(sp) != 1) {
    *why = "is not a single value";
    goto done;
  }
  if (H5Aread(a, H5T_NATIVE_FLOAT, v) < 0) goto done;
  rc = 1;
done:
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  H5Eclear2(H5E_DEFAULT);
  return rc;
}

int fp8lab_trace_hdf5_quiet(void) {
  return H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0 ? -1 : 0;
}

/* ---- opening a file and finding its case groups ------------------------- */

static hid_t make_fapl(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return -1;
  /* Closing the file closes every object still open in it. */
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
  /* Use file locks where the file system has them; do not fail where it
   * has none (network file systems). */
  H5Pset_file_locking(fapl, true, true);
#endif
  return fapl;
}

/* Look for the HDF5 superblock signature at 0, 512, 1024, 2048, ... */
static int check_signature(const char *path, char *err, size_t errlen) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a,
                                       '\n'};
  struct stat st;
  if (stat(path, &st) != 0)
    return seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return seterr(err, errlen, "%s: is a directory, not a trace file", path);
  if (!S_ISREG(st.st_mode))
    return seterr(err, errlen, "%s: is not a regular file", path);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  if (st.st_size == 0) {
    fclose(fp);
    return seterr(err, errlen, "%s: empty file (0 bytes), not an HDF5 file",
                  path);
  }
  bool found = false;
  for (long off = 0; !found; off = off ? 2 * off : 512) {
    if (off + 8 > st.st_size) break;
    unsigned char buf[8];
    if (fseek(fp, off, SEEK_SET) != 0 || fread(buf, 1, 8, fp) != 8) break;
    found = memcmp(buf, sig, 8) == 0;
    if (off > ((long)1 << 40)) break;
  }
  fclose(fp);
  if (!found)
    return seterr(err, errlen,
                  "%s: not an HDF5 file (no HDF5 signature; %lld bytes)", path,
                  (long long)st.st_size);
  return 0;
}

typedef struct objkey {
  unsigned char k[24];
} objkey;

typedef struct discover {
  char **paths;
  size_t n, cap;
  objkey *seen;
  size_t nseen, capseen;
  const char *file;
  char *err;
  size_t errlen;
} discover;

static int object_key(hid_t obj, objkey *key) {
  memset(key, 0, sizeof *key);
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t oi;
  if (H5Oget_info3(obj, &oi, H5O_INFO_BASIC) < 0) return -1;
  memcpy(key->k, &oi.fileno, sizeof oi.fileno);
  memcpy(key->k + 8, &oi.token, sizeof oi.token < 16 ? sizeof oi.token : 16);
#else
  H5O_info_t oi;
  if (H5Oget_info2(obj, &oi, H5O_INFO_BASIC) < 0) return -1;
  memcpy(key->k, &oi.fileno, sizeof oi.fileno);
  memcpy(key->k + 8, &oi.addr, sizeof oi.addr);
#endif
  return 0;
}

static int add_path(discover *d, const char *path) {
  if (d->n == d->cap) {
    size_t ncap = d->cap ? 2 * d->cap : 64;
    char **np = realloc(d->paths, ncap * sizeof *np);
    if (!np) return seterr(d->err, d->errlen, "%s: out of memory", d->file);
    d->paths = np;
    d->cap = ncap;
  }
  d->paths[d->n] = xstrdup(path);
  if (!d->paths[d->n]) return seterr(d->err, d->errlen, "%s: out of memory", d->file);
  d->n++;
  return 0;
}

/* The names of g's links, sorted.  H5Literate in native order walks the
 * link index directly; H5Lget_name_by_idx would first build a table of a
 * dense group's links, and HDF5 1.10.8 frees uninitialised entries of that
 * table when a corrupt (checksum-failing) file makes it fail. */
typedef struct namelist {
  char **names;
  size_t n, cap;
  bool oom;
} namelist;

static herr_t collect_cb(hid_t g, const char *name, const H5L_info_t *info,
                         void *data) {
  (void)g;
  (void)info;
  namelist *l = data;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? 2 * l->cap : 32;
    char **nn = realloc(l->names, ncap * sizeof *nn);
    if (!nn) {
      l->oom = true;
      return -1;
    }
    l->names = nn;
    l->cap = ncap;
  }
  if (!(l->names[l->n] = xstrdup(name))) {
    l->oom = true;
    return -1;
  }
  l->n++;
  return 0;
}

static int strcmp_qsort(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static void namelist_free(namelist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->names[i]);
  free(l->names);
  memset(l, 0, sizeof *l);
}

/* 0, or -1 with the reason in msg. */
static int list_links(hid_t g, namelist *l, char *msg, size_t len) {
  memset(l, 0, sizeof *l);
  hsize_t idx = 0;
  if (H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, collect_cb, l) < 0) {
    if (l->oom) snprintf(msg, len, "out of memory");
    else fp8lab_h5_msg(msg, len);
    namelist_free(l);
    return -1;
  }
  if (l->n) qsort(l->names, l->n, sizeof *l->names, strcmp_qsort);
  return 0;
}

static int visit_group(discover *d, hid_t g, const char *path, int depth) {
  char msg[MSGLEN];
  objkey key;
  if (object_key(g, &key) == 0) {
    for (size_t i = 0; i < d->nseen; i++)
      if (memcmp(&d->seen[i], &key, sizeof key) == 0) return 0;
    if (d->nseen == d->capseen) {
      size_t ncap = d->capseen ? 2 * d->capseen : 64;
      objkey *ns = realloc(d->seen, ncap * sizeof *ns);
      if (!ns) return seterr(d->err, d->errlen, "%s: out of memory", d->file);
      d->seen = ns;
      d->capseen = ncap;
    }
    d->seen[d->nseen++] = key;
  }
  if (depth > MAX_DEPTH)
    return seterr(d->err, d->errlen,
                  "%s: %s: groups nested more than %d deep", d->file, path,
                  MAX_DEPTH);
  if (d->nseen > MAX_GROUPS)
    return seterr(d->err, d->errlen, "%s: more than %d groups", d->file,
                  MAX_GROUPS);
  namelist links;
  if (list_links(g, &links, msg, sizeof msg) != 0)
    return seterr(d->err, d->errlen, "%s: %s: cannot list the group: %s",
                  d->file, path, msg);
  bool has_dataset = false;
  int rc = 0;
  for (size_t i = 0; i < links.n && rc == 0; i++) {
    const char *name = links.names[i];
    H5L_info_t li;
    if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0) {
      rc = seterr(d->err, d->errlen, "%s: %s%s%s: cannot read the link: %s",
                  d->file, strcmp(path, "/") ? path : "",
                  strcmp(path, "/") ? "/" : "", name, fp8lab_h5_msg(msg, sizeof msg));
      break;
    }
    /* External and user-defined links are not followed (a trace holds its
     * own data); a case group's dataset behind one is reported by load. */
    if (li.type != H5L_TYPE_HARD && li.type != H5L_TYPE_SOFT) continue;
    hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
    if (obj < 0) {
      /* A dangling soft link is reported by load when a case group needs
       * it; an unreadable hard link is a broken file. */
      if (li.type == H5L_TYPE_SOFT) {
        H5Eclear2(H5E_DEFAULT);
        continue;
      }
      rc = seterr(d->err, d->errlen, "%s: %s%s%s: cannot be opened: %s",
                  d->file, strcmp(path, "/") ? path : "",
                  strcmp(path, "/") ? "/" : "", name, fp8lab_h5_msg(msg, sizeof msg));
      break;
    }
    H5I_type_t it = H5Iget_type(obj);
    if (it == H5I_DATASET) {
      has_dataset = true;
    } else if (it == H5I_GROUP) {
      char sub[2048];
      snprintf(sub, sizeof sub, "%s%s%s", strcmp(path, "/") ? path : "",
               strcmp(path, "/") ? "/" : "", name);
      rc = visit_group(d, obj, sub, depth + 1);
    }
    H5Oclose(obj);
  }
  namelist_free(&links);
  if (rc) return rc;
  if (has_dataset) return add_path(d, path);
  return 0;
}

void fp8lab_trace_close(fp8lab_trace *t) {
  if (!t) return;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  if (t->h5 > 0) H5Fclose((hid_t)t->h5);
  fp8lab_h5_quiet_off(&q);
  free(t->path);
  free(t->instruction);
  free(t->call);
  free(t->layout);
  free(t->gpu);
  for (size_t i = 0; i < t->nfamilies; i++) free(t->families[i]);
  free(t->families);
  for (size_t i = 0; i < t->ngroups; i++) free(t->groups[i]);
  free(t->groups);
  memset(t, 0, sizeof *t);
}

static int trace_open(const char *path, fp8lab_trace *t, char *err,
                      size_t errlen) {
  char msg[MSGLEN];
  if (check_signature(path, err, errlen) != 0) return -1;
  t->path = xstrdup(path);
  if (!t->path) return seterr(err, errlen, "%s: out of memory", path);
  hid_t fapl = make_fapl();
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (f < 0) fp8lab_h5_msg(msg, sizeof msg); /* before H5Pclose clears the stack */
  if (fapl >= 0) H5Pclose(fapl);
  if (f < 0)
    return seterr(err, errlen, "%s: cannot read as HDF5: %s", path, msg);
  t->h5 = f;

  /* Root attributes. */
  static const char *const names[] = {"instruction", "call", "layout", "gpu"};
  char **slots[] = {&t->instruction, &t->call, &t->layout, &t->gpu};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *why = "";
    if (read_str_attr(f, names[i], slots[i], &why) < 0)
      return seterr(err, errlen, "%s: attribute %s %s", path, names[i], why);
  }
  char *fam = NULL;
  const char *why = "";
  int r = read_str_attr(f, "families", &fam, &why);
  if (r < 0) return seterr(err, errlen, "%s: attribute families %s", path, why);
  if (r > 0) {
    int pr = parse_json_strings(fam, &t->families, &t->nfamilies, &why);
    free(fam);
    if (pr != 0)
      return seterr(err, errlen, "%s: attribute families: %s", path, why);
  }

  /* Case groups. */
  discover d = {.file = path, .err = err, .errlen = errlen};
  hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  if (root < 0)
    return seterr(err, errlen, "%s: cannot open the root group: %s", path,
                  fp8lab_h5_msg(msg, sizeof msg));
  int rc = visit_group(&d, root, "/", 0);
  H5Gclose(root);
  free(d.seen);
  if (d.n) qsort(d.paths, d.n, sizeof *d.paths, natural_qsort);
  t->groups = d.paths;
  t->ngroups = d.n;
  if (rc) return -1;
  if (t->ngroups == 0)
    return seterr(err, errlen,
                  "%s: no case groups (no group holds a dataset; see "
                  "docs/trace-format.md)", path);
  return 0;
}

int fp8lab_trace_open(const char *path, fp8lab_trace *t, char *err,
                      size_t errlen) {
  memset(t, 0, sizeof *t);
  if (!path) return seterr(err, errlen, "trace: no file name");
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  int rc = trace_open(path, t, err, errlen);
  if (rc != 0) {
    fp8lab_h5_quiet_off(&q);
    fp8lab_trace_close(t);
    return -1;
  }
  fp8lab_h5_quiet_off(&q);
  return 0;
}

long fp8lab_trace_find(const fp8lab_trace *t, const char *path) {
  while (*path == '/' && path[1]) path++;
  for (size_t i = 0; i < t->ngroups; i++)
    if (strcmp(t->groups[i], path) == 0) return (long)i;
  return -1;
}

/* ---- probing datasets ----------------------------------------------------- */

typedef enum tkind {
  T_OTHER,
  T_U8,    /* unsigned 8-bit integer */
  T_U16,   /* unsigned 16-bit integer */
  T_INT,   /* another integer */
  T_F32,   /* IEEE binary32, either byte order */
  T_HALF,  /* IEEE binary16 (h5py float16) */
} tkind;

typedef struct probe {
  const char *name;
  bool present;
  hid_t ds;
  int rank;
  hsize_t dims[H5S_MAX_RANK];
  tkind kind;
  hid_t half_mem; /* memory type for T_HALF */
  char tdesc[48];
} probe;

typedef struct ctx {
  const char *file;
  const char *group;
  char *err;
  size_t errlen;
} ctx;

__attribute__((format(printf, 3, 4))) static int dserr(const ctx *c,
                                                       const char *ds,
                                                       const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  bool root = strcmp(c->group, "/") == 0;
  if (ds)
    return seterr(c->err, c->errlen, "%s: %s/%s: %s", c->file,
                  root ? "" : c->group, ds, what);
  return seterr(c->err, c->errlen, "%s: %s: %s", c->file, c->group, what);
}

static void describe_type(hid_t t, char *buf, size_t len) {
  H5T_class_t cl = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  switch (cl) {
  case H5T_INTEGER:
    snprintf(buf, len, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "",
             8 * sz);
    break;
  case H5T_FLOAT: snprintf(buf, len, "float%zu", 8 * sz); break;
  case H5T_STRING: snprintf(buf, len, "string"); break;
  case H5T_COMPOUND: snprintf(buf, len, "compound"); break;
  case H5T_ENUM: snprintf(buf, len, "enum"); break;
  case H5T_ARRAY: snprintf(buf, len, "array"); break;
  case H5T_VLEN: snprintf(buf, len, "variable-length"); break;
  case H5T_OPAQUE: snprintf(buf, len, "opaque"); break;
  case H5T_BITFIELD: snprintf(buf, len, "bitfield"); break;
  case H5T_REFERENCE: snprintf(buf, len, "reference"); break;
  default: snprintf(buf, len, "unknown type"); break;
  }
}

static void shape_str(const hsize_t *dims, int rank, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  if (rank == 0) snprintf(buf, len, "scalar");
  for (int i = 0; i < rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "[%llu]",
                          (unsigned long long)dims[i]);
}

static void probe_close(probe *p) {
  if (p->half_mem > 0) H5Tclose(p->half_mem);
  if (p->ds > 0) H5Dclose(p->ds);
  p->half_mem = 0;
  p->ds = 0;
}

/* Find dataset `name` in g.  Returns 0 (p->present says whether it is
 * there) or -1 for a link that is not a readable dataset. */
static int probe_ds(const ctx *c, hid_t g, const char *name, probe *p) {
  char msg[MSGLEN];
  memset(p, 0, sizeof *p);
  p->name = name;
  htri_t ex = H5Lexists(g, name, H5P_DEFAULT);
  if (ex < 0) return dserr(c, name, "cannot look up: %s", fp8lab_h5_msg(msg, sizeof msg));
  if (ex == 0) return 0;
  H5L_info_t li;
  if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0)
    return dserr(c, name, "cannot read the link: %s", fp8lab_h5_msg(msg, sizeof msg));
  if (li.type == H5L_TYPE_EXTERNAL)
    return dserr(c, name, "is an external link (a trace must hold its own data)");
  if (li.type != H5L_TYPE_HARD && li.type != H5L_TYPE_SOFT)
    return dserr(c, name, "is a user-defined link, not a dataset");
  hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
  if (obj < 0)
    return dserr(c, name, "cannot be opened%s: %s",
                 li.type == H5L_TYPE_SOFT ? " (dangling soft link?)" : "",
                 fp8lab_h5_msg(msg, sizeof msg));
  H5I_type_t it = H5Iget_type(obj);
  H5Oclose(obj);
  if (it != H5I_DATASET)
    return dserr(c, name, "is %s, not a dataset",
                 it == H5I_GROUP ? "a group" : it == H5I_DATATYPE
                                                   ? "a named datatype"
                                                   : "not a dataset");
  p->ds = H5Dopen2(g, name, H5P_DEFAULT);
  if (p->ds < 0)
    return dserr(c, name, "cannot be opened: %s", fp8lab_h5_msg(msg, sizeof msg));
  p->present = true;
  hid_t sp = H5Dget_space(p->ds);
  if (sp < 0)
    return dserr(c, name, "cannot read the dataspace: %s", fp8lab_h5_msg(msg, sizeof msg));
  H5S_class_t sc = H5Sget_simple_extent_type(sp);
  int rank = sc == H5S_SIMPLE ? H5Sget_simple_extent_ndims(sp) : 0;
  if (rank > 0) H5Sget_simple_extent_dims(sp, p->dims, NULL);
  H5Sclose(sp);
  if (sc == H5S_NULL) return dserr(c, name, "has an empty (null) dataspace");
  if (sc != H5S_SIMPLE && sc != H5S_SCALAR)
    return dserr(c, name, "has an unreadable dataspace");
  if (rank < 0)
    return dserr(c, name, "cannot read the dataspace: %s", fp8lab_h5_msg(msg, sizeof msg));
  p->rank = rank;
  for (int i = 0; i < rank; i++)
    if (p->dims[i] == 0) {
      char sh[128];
      shape_str(p->dims, rank, sh, sizeof sh);
      return dserr(c, name, "shape %s has a zero dimension", sh);
    }
  hid_t t = H5Dget_type(p->ds);
  if (t < 0)
    return dserr(c, name, "cannot read the datatype: %s", fp8lab_h5_msg(msg, sizeof msg));
  describe_type(t, p->tdesc, sizeof p->tdesc);
  H5T_class_t cl = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  p->kind = T_OTHER;
  if (cl == H5T_INTEGER) {
    bool uns = H5Tget_sign(t) == H5T_SGN_NONE;
    p->kind = uns && sz == 1 ? T_U8 : uns && sz == 2 ? T_U16 : T_INT;
  } else if (cl == H5T_FLOAT) {
    if (H5Tequal(t, H5T_IEEE_F32LE) > 0 || H5Tequal(t, H5T_IEEE_F32BE) > 0) {
      p->kind = T_F32;
    } else if (sz == 2) {
      size_t spos, epos, esize, mpos, msize;
      if (H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0 &&
          spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
          H5Tget_ebias(t) == 15 && H5Tget_precision(t) == 16 &&
          H5Tget_offset(t) == 0) {
        hid_t m = H5Tcopy(t);
        if (m >= 0 && H5Tset_order(m, H5T_ORDER_LE) >= 0) {
          p->kind = T_HALF;
          p->half_mem = m;
        } else if (m >= 0) {
          H5Tclose(m);
        }
      }
    }
  }
  H5Tclose(t);
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

static bool dims_eq(const probe *p, int rank, const hsize_t *want) {
  if (p->rank != rank) return false;
  for (int i = 0; i < rank; i++)
    if (p->dims[i] != want[i]) return false;
  return true;
}

static int expect_shape(const ctx *c, const probe *p, int rank,
                        const hsize_t *want, const char *meaning) {
  if (dims_eq(p, rank, want)) return 0;
  char got[128], exp[128];
  shape_str(p->dims, p->rank, got, sizeof got);
  shape_str(want, rank, exp, sizeof exp);
  return dserr(c, p->name, "shape %s, expected %s (%s)", got, exp, meaning);
}

static size_t nelem(const probe *p) {
  size_t n = 1;
  for (int i = 0; i < p->rank; i++) n *= (size_t)p->dims[i];
  return n;
}

/* Allocate and read p into *out (elsize bytes per element). */
static int read_ds(const ctx *c, probe *p, hid_t memtype, size_t elsize,
                   void **out) {
  char msg[MSGLEN];
  size_t n = nelem(p);
  size_t bytes = n * elsize;
  void *buf = malloc(bytes != 0 ? bytes : 1);
  if (!buf) return dserr(c, p->name, "out of memory (%zu bytes)", bytes);
  if (H5Dread(p->ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    free(buf);
    return dserr(c, p->name, "cannot read the data: %s", fp8lab_h5_msg(msg, sizeof msg));
  }
  *out = buf;
  return 0;
}

/* The value type of C or an output (rules at the top of fp8lab/trace.h). */
static int value_dtype(const ctx *c, const probe *p, bool output,
                       fp8lab_trace_dtype *out) {
  char *fmt = NULL;
  const char *why = "";
  fp8lab_trace_dtype attr = FP8LAB_TRACE_NONE;
  int r = read_str_attr(p->ds, "format", &fmt, &why);
  if (r < 0) return dserr(c, p->name, "attribute format %s", why);
  if (r > 0) {
    int pr = parse_dtype(fmt, &attr);
    if (pr != 0) {
      dserr(c, p->name, "attribute format '%s' is not f32, f16 or bf16", fmt);
      free(fmt);
      return -1;
    }
    free(fmt);
  }
  fp8lab_trace_dtype byname = output ? name_dtype(p->name) : FP8LAB_TRACE_NONE;
  fp8lab_trace_dtype t;
  if (p->kind == T_F32) t = FP8LAB_TRACE_F32;
  else if (p->kind == T_HALF) t = FP8LAB_TRACE_F16;
  else if (p->kind == T_U16) {
    if (attr != FP8LAB_TRACE_NONE) t = attr;
    else if (byname == FP8LAB_TRACE_BF16 || byname == FP8LAB_TRACE_F16) t = byname;
    else if (byname == FP8LAB_TRACE_F32)
      return dserr(c, p->name, "the name says f32 but the data are uint16");
    else {
      char *dt = NULL;
      r = read_str_attr(p->ds, "dtype", &dt, &why);
      t = r > 0 && strstr(dt, "bf16") ? FP8LAB_TRACE_BF16 : FP8LAB_TRACE_F16;
      free(dt);
    }
  } else {
    return dserr(c, p->name,
                 "type %s, expected float32 values or uint16 bit patterns "
                 "(f16, bf16)", p->tdesc);
  }
  if (t == FP8LAB_TRACE_F32 && attr != FP8LAB_TRACE_NONE && attr != t)
    return dserr(c, p->name, "attribute format says %s but the data are float32",
                 fp8lab_trace_dtype_name(attr));
  if (p->kind == T_HALF && attr != FP8LAB_TRACE_NONE && attr != t)
    return dserr(c, p->name, "attribute format says %s but the data are float16",
                 fp8lab_trace_dtype_name(attr));
  if (p->kind == T_U16 && t == FP8LAB_TRACE_F32)
    return dserr(c, p->name, "attribute format says f32 but the data are uint16");
  if (byname != FP8LAB_TRACE_NONE && byname != t)
    return dserr(c, p->name, "the name says %s but the data are %s",
                 fp8lab_trace_dtype_name(byname), fp8lab_trace_dtype_name(t));
  *out = t;
  return 0;
}

static int read_values(const ctx *c, probe *p, fp8lab_trace_dtype t,
                       void **out) {
  if (t == FP8LAB_TRACE_F32) return read_ds(c, p, H5T_NATIVE_FLOAT, 4, out);
  if (p->kind == T_HALF) return read_ds(c, p, p->half_mem, 2, out);
  return read_ds(c, p, H5T_NATIVE_UINT16, 2, out);
}

void fp8lab_trace_group_free(fp8lab_trace_group *g) {
  if (!g) return;
  free(g->path);
  free(g->a);
  free(g->b);
  free(g->c);
  free(g->family);
  free(g->row_scale_a);
  free(g->col_scale_b);
  free(g->tile_scale_a);
  free(g->block_scale_b);
  for (size_t i = 0; i < g->noutputs; i++) {
    free(g->outputs[i].name);
    free(g->outputs[i].model);
    free(g->outputs[i].kernels);
    free(g->outputs[i].data);
  }
  free(g->outputs);
  memset(g, 0, sizeof *g);
}

enum { P_A, P_B, P_C, P_FAMILY, P_ROW, P_COL, P_TILE, P_BLOCK, P_FIXED };
static const char *const fixed_names[P_FIXED] = {
    "A", "B", "C", "family", "row_scale_a", "col_scale_b",
    "tile_scale_a_1x128", "block_scale_b_128x128"};

typedef struct loader {
  ctx c;
  hid_t g;
  probe fixed[P_FIXED];
  probe *outs;
  size_t nouts;
} loader;

/* Output `name` of the group, if it is one (D or D_*): probed, shape and
 * type checked, attributes read.  0 (also for a name that is no output) or
 * -1. */
static int probe_output(loader *L, fp8lab_trace_group *g, const char *name,
                        int vrank, const hsize_t *vshape, const char *vmeaning) {
  const ctx *c = &L->c;
  fp8lab_scale_mode sm;
  bool fast;
  if (!fp8lab_trace_output_kind(name, &sm, &fast)) return 0;
  fp8lab_trace_output *o = &g->outputs[g->noutputs];
  probe *p = &L->outs[L->nouts];
  o->name = xstrdup(name);
  if (!o->name) return dserr(c, NULL, "out of memory");
  g->noutputs++;
  L->nouts++;
  if (probe_ds(c, L->g, o->name, p) != 0) return -1;
  if (expect_shape(c, p, vrank, vshape, vmeaning) != 0) return -1;
  if (value_dtype(c, p, true, &o->type) != 0) return -1;
  o->scales = sm;
  o->fast = fast;
  const char *why = "";
  if (read_str_attr(p->ds, "model", &o->model, &why) < 0)
    return dserr(c, name, "attribute model %s", why);
  if (read_str_attr(p->ds, "kernels", &o->kernels, &why) < 0)
    return dserr(c, name, "attribute kernels %s", why);
  return 0;
}

static int operand_formats(const ctx *c, const fp8lab_trace *t, hid_t g,
                           fp8lab_trace_group *grp) {
  char *na = NULL, *nb = NULL;
  const char *why = "";
  int ra = read_str_attr(g, "format_a", &na, &why);
  if (ra < 0) return dserr(c, NULL, "attribute format_a %s", why);
  int rb = read_str_attr(g, "format_b", &nb, &why);
  if (rb < 0) {
    free(na);
    return dserr(c, NULL, "attribute format_b %s", why);
  }
  int rc = 0;
  if (ra > 0 || rb > 0) {
    if (ra == 0 || rb == 0) {
      rc = dserr(c, NULL, "attribute %s without %s", ra ? "format_a" : "format_b",
                 ra ? "format_b" : "format_a");
      goto done;
    }
    const char *nm[2] = {na, nb};
    const char *an[2] = {"format_a", "format_b"};
    fp8lab_format *dst[2] = {&grp->fa, &grp->fb};
    for (int i = 0; i < 2; i++) {
      char perr[160];
      if (fp8lab_format_parse(nm[i], dst[i], perr, sizeof perr) != 0) {
        rc = dserr(c, NULL, "attribute %s: %s", an[i], perr);
        goto done;
      }
      if (fp8lab_format_bits(dst[i]) > 8) {
        rc = dserr(c, NULL,
                   "attribute %s: %s has %d bits; operand codes are uint8 "
                   "(formats of at most 8 bits)", an[i], dst[i]->name,
                   fp8lab_format_bits(dst[i]));
        goto done;
      }
    }
    goto done;
  }
  if (formats_from_path(c->group, &grp->fa, &grp->fb)) goto done;
  if (t->layout) {
    bool e4 = strstr(t->layout, "e4m3") != NULL;
    bool e5 = strstr(t->layout, "e5m2") != NULL;
    if (e4 != e5) {
      grp->fa = grp->fb = e4 ? *fp8lab_e4m3fn : *fp8lab_e5m2;
      goto done;
    }
  }
  rc = dserr(c, NULL,
             "cannot tell the operand formats: no format_a/format_b "
             "attributes, no <a>_<b> component (e.g. e4m3_e5m2) in the group "
             "path, and the file's layout attribute names no single format");
done:
  free(na);
  free(nb);
  return rc;
}

static int load_group(loader *L, const fp8lab_trace *t, size_t index,
                      fp8lab_trace_group *g) {
  const ctx *c = &L->c;
  char msg[MSGLEN];
  L->g = H5Gopen2((hid_t)t->h5, t->groups[index], H5P_DEFAULT);
  if (L->g < 0)
    return dserr(c, NULL, "cannot open the group: %s", fp8lab_h5_msg(msg, sizeof msg));
  g->path = xstrdup(t->groups[index]);
  if (!g->path) return dserr(c, NULL, "out of memory");

  /* Phase 1: probe every dataset and check shapes and types. */
  for (int i = 0; i < P_FIXED; i++)
    if (probe_ds(c, L->g, fixed_names[i], &L->fixed[i]) != 0) return -1;
  probe *A = &L->fixed[P_A], *B = &L->fixed[P_B], *C = &L->fixed[P_C];
  probe *F = &L->fixed[P_FAMILY];
  if (!A->present || !B->present)
    return dserr(c, !A->present ? "A" : "B",
                 "missing (every case group needs A and B)");
  if (A->rank != 2 && A->rank != 3) {
    char sh[128];
    shape_str(A->dims, A->rank, sh, sizeof sh);
    return dserr(c, "A", "shape %s: expected rank 3 ([ncases][M][K], an "
                 "instruction trace) or 2 ([M][K], a GEMM)", sh);
  }
  g->instruction = A->rank == 3;
  int r0 = g->instruction ? 1 : 0;
  g->ncases = g->instruction ? (size_t)A->dims[0] : 1;
  g->m = (size_t)A->dims[r0];
  g->k = (size_t)A->dims[r0 + 1];
  if (B->rank != A->rank) {
    char sh[128];
    shape_str(B->dims, B->rank, sh, sizeof sh);
    return dserr(c, "B", "shape %s: rank %d, but A has rank %d", sh, B->rank,
                 A->rank);
  }
  g->n = (size_t)B->dims[r0];
  hsize_t want[3];
  if (g->instruction) {
    want[0] = g->ncases, want[1] = g->n, want[2] = g->k;
    if (expect_shape(c, B, 3, want, "[ncases][N][K], ncases and K of A") != 0)
      return -1;
  } else {
    want[0] = g->n, want[1] = g->k;
    if (expect_shape(c, B, 2, want, "[N][K], K of A") != 0) return -1;
  }
  /* Sizes must multiply without overflow (a broken header could claim
   * anything); 2^48 elements is far beyond any trace. */
  const double lim = 281474976710656.0;
  if ((double)g->ncases * (double)g->m * (double)g->k > lim ||
      (double)g->ncases * (double)g->n * (double)g->k > lim ||
      (double)g->ncases * (double)g->m * (double)g->n > lim)
    return dserr(c, "A", "sizes ncases %zu, M %zu, N %zu, K %zu are too large",
                 g->ncases, g->m, g->n, g->k);
  for (int i = 0; i < 2; i++) {
    probe *p = i ? B : A;
    if (p->kind != T_U8)
      return dserr(c, p->name, "type %s, expected uint8 codes", p->tdesc);
  }
  if (operand_formats(c, t, L->g, g) != 0) return -1;

  hsize_t vshape[3];
  int vrank;
  if (g->instruction)
    vshape[0] = g->ncases, vshape[1] = g->m, vshape[2] = g->n, vrank = 3;
  else
    vshape[0] = g->m, vshape[1] = g->n, vrank = 2;
  const char *vmeaning = g->instruction ? "[ncases][M][N] of A and B"
                                        : "[M][N] of A and B";
  if (C->present) {
    if (expect_shape(c, C, vrank, vshape, vmeaning) != 0) return -1;
    if (value_dtype(c, C, false, &g->c_type) != 0) return -1;
  }
  if (F->present) {
    hsize_t fw[1] = {g->ncases};
    if (expect_shape(c, F, 1, fw, "[ncases] of A") != 0) return -1;
    if (F->kind != T_U8 && F->kind != T_U16 && F->kind != T_INT)
      return dserr(c, "family", "type %s, expected uint8", F->tdesc);
  }

  /* Outputs: every dataset named D or D_*. */
  namelist links;
  if (list_links(L->g, &links, msg, sizeof msg) != 0)
    return dserr(c, NULL, "cannot list the group: %s", msg);
  L->outs = calloc(links.n ? links.n : 1, sizeof *L->outs);
  g->outputs = calloc(links.n ? links.n : 1, sizeof *g->outputs);
  if (!L->outs || !g->outputs) {
    namelist_free(&links);
    return dserr(c, NULL, "out of memory");
  }
  int orc = 0;
  for (size_t i = 0; i < links.n && orc == 0; i++)
    orc = probe_output(L, g, links.names[i], vrank, vshape, vmeaning);
  namelist_free(&links);
  if (orc != 0) return -1;
  if (g->noutputs == 0)
    return dserr(c, NULL, "no output datasets (D or D_*)");

  /* Scales. */
  size_t kt = (g->k + SCALE_TILE - 1) / SCALE_TILE;
  size_t nt = (g->n + SCALE_TILE - 1) / SCALE_TILE;
  for (int i = P_ROW; i <= P_BLOCK; i++) {
    probe *p = &L->fixed[i];
    if (!p->present) continue;
    if (g->instruction)
      return dserr(c, p->name, "scales belong to GEMM groups (rank-2 A), not "
                   "to instruction traces");
    if (p->kind != T_F32)
      return dserr(c, p->name, "type %s, expected float32", p->tdesc);
    hsize_t w2[2];
    const char *meaning;
    bool ok;
    switch (i) {
    case P_ROW:
      w2[0] = g->m, w2[1] = 1, meaning = "[M][1]";
      ok = dims_eq(p, 2, w2) || dims_eq(p, 1, w2);
      break;
    case P_COL:
      w2[0] = 1, w2[1] = g->n, meaning = "[1][N]";
      ok = dims_eq(p, 2, w2) || dims_eq(p, 1, w2 + 1);
      break;
    case P_TILE:
      w2[0] = g->m, w2[1] = kt, meaning = "[M][ceil(K/128)]";
      ok = dims_eq(p, 2, w2);
      break;
    default:
      w2[0] = nt, w2[1] = kt, meaning = "[ceil(N/128)][ceil(K/128)]";
      ok = dims_eq(p, 2, w2);
      break;
    }
    if (!ok && expect_shape(c, p, 2, w2, meaning) != 0) return -1;
  }
  float sa = 0, sb = 0;
  const char *why = "";
  int ta = read_f32_attr(L->g, "tensor_scale_a", &sa, &why);
  if (ta < 0) return dserr(c, NULL, "attribute tensor_scale_a %s", why);
  int tb = read_f32_attr(L->g, "tensor_scale_b", &sb, &why);
  if (tb < 0) return dserr(c, NULL, "attribute tensor_scale_b %s", why);
  if (ta != tb)
    return dserr(c, NULL, "attribute %s without %s",
                 ta ? "tensor_scale_a" : "tensor_scale_b",
                 ta ? "tensor_scale_b" : "tensor_scale_a");
  if (ta > 0 && g->instruction)
    return dserr(c, NULL, "tensor scales belong to GEMM groups (rank-2 A), "
                 "not to instruction traces");
  g->has_tensor_scales = ta > 0;
  g->tensor_scale_a = sa;
  g->tensor_scale_b = sb;
  for (size_t i = 0; i < g->noutputs; i++) {
    const fp8lab_trace_output *o = &g->outputs[i];
    if (o->scales == FP8LAB_SCALE_TENSOR && !g->has_tensor_scales)
      return dserr(c, o->name, "needs the group attributes tensor_scale_a and "
                   "tensor_scale_b, which are missing");
    if (o->scales == FP8LAB_SCALE_ROWWISE &&
        (!L->fixed[P_ROW].present || !L->fixed[P_COL].present))
      return dserr(c, o->name, "needs dataset %s, which is missing",
                   !L->fixed[P_ROW].present ? "row_scale_a" : "col_scale_b");
    if (o->scales == FP8LAB_SCALE_BLOCKWISE &&
        (!L->fixed[P_TILE].present || !L->fixed[P_BLOCK].present))
      return dserr(c, o->name, "needs dataset %s, which is missing",
                   !L->fixed[P_TILE].present ? "tile_scale_a_1x128"
                                             : "block_scale_b_128x128");
  }

  /* Phase 2: read. */
  if (read_ds(c, A, H5T_NATIVE_UINT8, 1, (void **)&g->a) != 0) return -1;
  if (read_ds(c, B, H5T_NATIVE_UINT8, 1, (void **)&g->b) != 0) return -1;
  if (C->present && read_values(c, C, g->c_type, &g->c) != 0) return -1;
  if (F->present) {
    int64_t *fam = NULL;
    if (read_ds(c, F, H5T_NATIVE_INT64, 8, (void **)&fam) != 0) return -1;
    g->family = malloc(g->ncases);
    if (!g->family) {
      free(fam);
      return dserr(c, "family", "out of memory");
    }
    int64_t lim = t->nfamilies ? (int64_t)t->nfamilies : 256;
    for (size_t i = 0; i < g->ncases; i++) {
      if (fam[i] < 0 || fam[i] >= lim) {
        int64_t v = fam[i];
        free(fam);
        if (t->nfamilies)
          return dserr(c, "family", "value %lld of case %zu is out of range "
                       "(the file's families attribute lists %zu)",
                       (long long)v, i, t->nfamilies);
        return dserr(c, "family", "value %lld of case %zu is not in 0..255",
                     (long long)v, i);
      }
      g->family[i] = (uint8_t)fam[i];
    }
    free(fam);
  }
  float **sdst[4] = {&g->row_scale_a, &g->col_scale_b, &g->tile_scale_a,
                     &g->block_scale_b};
  for (int i = P_ROW; i <= P_BLOCK; i++)
    if (L->fixed[i].present &&
        read_ds(c, &L->fixed[i], H5T_NATIVE_FLOAT, 4,
                (void **)sdst[i - P_ROW]) != 0)
      return -1;
  for (size_t i = 0; i < g->noutputs; i++)
    if (read_values(c, &L->outs[i], g->outputs[i].type, &g->outputs[i].data) != 0)
      return -1;
  return 0;
}

int fp8lab_trace_load(const fp8lab_trace *t, size_t index,
                      fp8lab_trace_group *g, char *err, size_t errlen) {
  memset(g, 0, sizeof *g);
  if (!t || t->h5 <= 0 || index >= t->ngroups)
    return seterr(err, errlen, "%s: no case group %zu", t && t->path ? t->path : "trace",
                  index);
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  loader L = {.c = {t->path, t->groups[index], err, errlen}};
  int rc = load_group(&L, t, index, g);
  for (int i = 0; i < P_FIXED; i++) probe_close(&L.fixed[i]);
  for (size_t i = 0; i < L.nouts; i++) probe_close(&L.outs[i]);
  free(L.outs);
  if (L.g > 0) H5Gclose(L.g);
  fp8lab_h5_quiet_off(&q);
  if (rc != 0) fp8lab_trace_group_free(g);
  return rc;
}

/* ---- writing ------------------------------------------------------------- */

struct fp8lab_trace_writer {
  hid_t file;
  char *path;
  char *tmp;
};

void fp8lab_trace_writer_abort(fp8lab_trace_writer *w) {
  if (!w) return;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  if (w->file > 0) H5Fclose(w->file);
  fp8lab_h5_quiet_off(&q);
  if (w->tmp) unlink(w->tmp);
  free(w->tmp);
  free(w->path);
  free(w);
}

fp8lab_trace_writer *fp8lab_trace_writer_open(const char *path, char *err,
                                              size_t errlen) {
  char msg[MSGLEN];
  fp8lab_trace_writer *w = calloc(1, sizeof *w);
  if (!w || !path) {
    free(w);
    seterr(err, errlen, "%s: %s", path ? path : "trace",
           path ? "out of memory" : "no file name");
    return NULL;
  }
  w->path = xstrdup(path);
  size_t len = strlen(path) + 48;
  w->tmp = malloc(len);
  if (!w->path || !w->tmp) {
    fp8lab_trace_writer_abort(w);
    seterr(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  /* A fresh name next to the target, created with the usual permissions
   * (0666 less the umask). */
  static _Atomic unsigned counter;
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    snprintf(w->tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(),
             counter++ % 100000u);
    fd = open(w->tmp, O_CREAT | O_EXCL | O_WRONLY, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    seterr(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    free(w->tmp);
    w->tmp = NULL;
    fp8lab_trace_writer_abort(w);
    return NULL;
  }
  close(fd);
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  hid_t fapl = make_fapl();
  if (fapl >= 0) H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
  w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (w->file < 0) fp8lab_h5_msg(msg, sizeof msg);
  if (fapl >= 0) H5Pclose(fapl);
  if (w->file < 0) {
    seterr(err, errlen, "%s: cannot create: %s", path, msg);
    fp8lab_h5_quiet_off(&q);
    fp8lab_trace_writer_abort(w);
    return NULL;
  }
  fp8lab_h5_quiet_off(&q);
  return w;
}

/* A fixed-length, NUL-terminated UTF-8 string attribute (kept inside the
 * checksummed object header, unlike variable-length strings). */
static int put_str_attr(hid_t obj, const char *name, const char *value,
                        char *msg) {
  int rc = -1;
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
  if (t < 0 || sp < 0) goto done;
  if (H5Tset_size(t, strlen(value) + 1) < 0 ||
      H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0)
    goto done;
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, t, value) < 0) goto done;
  rc = 0;
done:
  if (rc != 0 && msg && !msg[0]) fp8lab_h5_msg(msg, MSGLEN);
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  return rc;
}

static int put_f32_attr(hid_t obj, const char *name, float v, char *msg) {
  int rc = -1;
  hid_t sp = H5Screate(H5S_SCALAR), a = -1;
  if (sp < 0) goto done;
  a = H5Acreate2(obj, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, H5T_NATIVE_FLOAT, &v) < 0) goto done;
  rc = 0;
done:
  if (rc != 0 && msg && !msg[0]) fp8lab_h5_msg(msg, MSGLEN);
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return rc;
}

int fp8lab_trace_writer_attr(fp8lab_trace_writer *w, const char *name,
                             const char *value, char *err, size_t errlen) {
  char msg[MSGLEN];
  if (!w || !name || !value || !name[0])
    return seterr(err, errlen, "trace writer: attribute needs a name and a value");
  if (strcmp(name, "families") == 0) {
    char **list = NULL;
    size_t n = 0;
    const char *why = "";
    if (parse_json_strings(value, &list, &n, &why) != 0)
      return seterr(err, errlen, "%s: attribute families: %s", w->path, why);
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
  }
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  msg[0] = '\0';
  int rc = put_str_attr(w->file, name, value, msg);
  if (rc != 0)
    seterr(err, errlen, "%s: cannot write attribute %s: %s", w->path, name,
           msg[0] ? msg : "HDF5 error");
  fp8lab_h5_quiet_off(&q);
  return rc;
}

/* One chunked, compressed, checksummed dataset. */
static int put_ds(hid_t g, const char *name, int rank, const hsize_t *dims,
                  hid_t ftype, hid_t mtype, const void *data,
                  const char *format, char *msg) {
  int rc = -1;
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
  if (sp < 0 || dcpl < 0) goto done;
  size_t esz = H5Tget_size(ftype);
  hsize_t chunk[4];
  size_t bytes = esz;
  for (int i = 0; i < rank; i++) {
    chunk[i] = dims[i];
    bytes *= (size_t)dims[i];
  }
  for (int i = 0; i < rank && bytes > ((size_t)1 << 20); i++)
    while (bytes > ((size_t)1 << 20) && chunk[i] > 1) {
      bytes = bytes / (size_t)chunk[i];
      chunk[i] = (chunk[i] + 1) / 2;
      bytes *= (size_t)chunk[i];
    }
  if (H5Pset_chunk(dcpl, rank, chunk) < 0) goto done;
  if (esz > 1) H5Pset_shuffle(dcpl);
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) H5Pset_deflate(dcpl, 4);
  /* Last on writing, first on reading: corruption is caught before the
   * decompressor sees the bytes. */
  if (H5Pset_fletcher32(dcpl) < 0) goto done;
  ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) goto done;
  if (H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) goto done;
  if (format && put_str_attr(ds, "format", format, msg) != 0) goto done;
  rc = 0;
done:
  if (rc != 0 && msg && !msg[0]) fp8lab_h5_msg(msg, MSGLEN);
  if (ds >= 0) H5Dclose(ds);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  return rc;
}

static int put_values(hid_t g, const char *name, int rank, const hsize_t *dims,
                      fp8lab_trace_dtype t, const void *data, char *msg) {
  if (t == FP8LAB_TRACE_F32)
    return put_ds(g, name, rank, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data,
                  "f32", msg);
  return put_ds(g, name, rank, dims, H5T_STD_U16LE, H5T_NATIVE_UINT16, data,
                fp8lab_trace_dtype_name(t), msg);
}

/* Check a group before writing it: the reader must accept what the writer
 * writes. */
static int check_group(const fp8lab_trace_writer *w, const fp8lab_trace_group *g,
                       char *err, size_t errlen) {
  const char *f = w->path;
  if (!g->path || !g->path[0] || g->path[0] == '/' || strstr(g->path, "//") ||
      g->path[strlen(g->path) - 1] == '/' || strchr(g->path, '.') == g->path)
    return seterr(err, errlen, "%s: group path '%s': expected names separated "
                  "by '/', e.g. e4m3_e4m3/K128", f, g->path ? g->path : "");
  const char *p = g->path;
  if (!g->ncases || !g->m || !g->n || !g->k)
    return seterr(err, errlen, "%s: %s: ncases, M, N, K must be positive", f, p);
  if (!g->instruction && g->ncases != 1)
    return seterr(err, errlen, "%s: %s: a GEMM group has one case (ncases = 1)",
                  f, p);
  if (!g->a || !g->b)
    return seterr(err, errlen, "%s: %s: A and B are required", f, p);
  if (fp8lab_format_bits(&g->fa) > 8 || fp8lab_format_bits(&g->fb) > 8 ||
      fp8lab_format_bits(&g->fa) < 2 || fp8lab_format_bits(&g->fb) < 2)
    return seterr(err, errlen, "%s: %s: operand formats must have 2..8 bits",
                  f, p);
  if ((g->c_type == FP8LAB_TRACE_NONE) != (g->c == NULL))
    return seterr(err, errlen, "%s: %s: c and c_type must be given together",
                  f, p);
  if (g->noutputs == 0 || !g->outputs)
    return seterr(err, errlen, "%s: %s: no outputs", f, p);
  bool row = g->row_scale_a && g->col_scale_b;
  bool blk = g->tile_scale_a && g->block_scale_b;
  if (g->instruction && (g->row_scale_a || g->col_scale_b || g->tile_scale_a ||
                         g->block_scale_b || g->has_tensor_scales))
    return seterr(err, errlen, "%s: %s: scales belong to GEMM groups, not to "
                  "instruction traces", f, p);
  if ((g->row_scale_a != NULL) != (g->col_scale_b != NULL) ||
      (g->tile_scale_a != NULL) != (g->block_scale_b != NULL))
    return seterr(err, errlen, "%s: %s: scales come in pairs (row_scale_a with "
                  "col_scale_b, tile_scale_a with block_scale_b)", f, p);
  for (size_t i = 0; i < g->noutputs; i++) {
    const fp8lab_trace_output *o = &g->outputs[i];
    fp8lab_scale_mode sm;
    if (!o->name || !fp8lab_trace_output_kind(o->name, &sm, NULL) ||
        strchr(o->name, '/') || strlen(o->name) >= 200)
      return seterr(err, errlen, "%s: %s: output name '%s': outputs are named "
                    "D or D_<something>", f, p, o->name ? o->name : "");
    if (o->type == FP8LAB_TRACE_NONE || !o->data)
      return seterr(err, errlen, "%s: %s: output %s has no data", f, p, o->name);
    fp8lab_trace_dtype bn = name_dtype(o->name);
    if (bn != FP8LAB_TRACE_NONE && bn != o->type)
      return seterr(err, errlen, "%s: %s: output %s holds %s values", f, p,
                    o->name, fp8lab_trace_dtype_name(o->type));
    for (size_t j = 0; j < i; j++)
      if (strcmp(g->outputs[j].name, o->name) == 0)
        return seterr(err, errlen, "%s: %s: output %s given twice", f, p, o->name);
    if ((sm == FP8LAB_SCALE_TENSOR && !g->has_tensor_scales) ||
        (sm == FP8LAB_SCALE_ROWWISE && !row) ||
        (sm == FP8LAB_SCALE_BLOCKWISE && !blk))
      return seterr(err, errlen, "%s: %s: output %s needs scales the group "
                    "does not have", f, p, o->name);
  }
  return 0;
}

int fp8lab_trace_write_group(fp8lab_trace_writer *w,
                             const fp8lab_trace_group *g, char *err,
                             size_t errlen) {
  char msg[MSGLEN];
  if (!w || !g) return seterr(err, errlen, "trace writer: no group");
  if (check_group(w, g, err, errlen) != 0) return -1;
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  msg[0] = '\0';
  int rc = -1;
  const char *what = "group";
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), gid = -1;
  if (lcpl < 0) goto done;
  H5Pset_create_intermediate_group(lcpl, 1);
  gid = H5Gcreate2(w->file, g->path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (gid < 0) goto done;
  what = "attributes";
  if (put_str_attr(gid, "format_a", g->fa.name, msg) != 0 ||
      put_str_attr(gid, "format_b", g->fb.name, msg) != 0)
    goto done;
  if (g->has_tensor_scales &&
      (put_f32_attr(gid, "tensor_scale_a", g->tensor_scale_a, msg) != 0 ||
       put_f32_attr(gid, "tensor_scale_b", g->tensor_scale_b, msg) != 0))
    goto done;
  hsize_t da[3], db[3], dv[3];
  int rank = g->instruction ? 3 : 2, r0 = g->instruction ? 1 : 0;
  da[0] = db[0] = dv[0] = g->ncases;
  da[r0] = g->m, da[r0 + 1] = g->k;
  db[r0] = g->n, db[r0 + 1] = g->k;
  dv[r0] = g->m, dv[r0 + 1] = g->n;
  what = "A";
  if (put_ds(gid, "A", rank, da, H5T_STD_U8LE, H5T_NATIVE_UINT8, g->a, NULL, msg)) goto done;
  what = "B";
  if (put_ds(gid, "B", rank, db, H5T_STD_U8LE, H5T_NATIVE_UINT8, g->b, NULL, msg)) goto done;
  what = "C";
  if (g->c && put_values(gid, "C", rank, dv, g->c_type, g->c, msg) != 0) goto done;
  what = "family";
  hsize_t dn[1] = {g->ncases};
  if (g->family &&
      put_ds(gid, "family", 1, dn, H5T_STD_U8LE, H5T_NATIVE_UINT8, g->family, NULL, msg))
    goto done;
  size_t kt = (g->k + SCALE_TILE - 1) / SCALE_TILE;
  size_t nt = (g->n + SCALE_TILE - 1) / SCALE_TILE;
  hsize_t ds[4][2] = {{g->m, 1}, {1, g->n}, {g->m, kt}, {nt, kt}};
  const float *sc[4] = {g->row_scale_a, g->col_scale_b, g->tile_scale_a,
                        g->block_scale_b};
  for (int i = 0; i < 4; i++) {
    what = fixed_names[P_ROW + i];
    if (sc[i] && put_ds(gid, what, 2, ds[i], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                        sc[i], NULL, msg))
      goto done;
  }
  for (size_t i = 0; i < g->noutputs; i++) {
    const fp8lab_trace_output *o = &g->outputs[i];
    what = o->name;
    if (put_values(gid, o->name, rank, dv, o->type, o->data, msg) != 0) goto done;
    hid_t d = H5Dopen2(gid, o->name, H5P_DEFAULT);
    if (d < 0) goto done;
    int ar = 0;
    if (o->model) ar |= put_str_attr(d, "model", o->model, msg);
    if (o->kernels) ar |= put_str_attr(d, "kernels", o->kernels, msg);
    H5Dclose(d);
    if (ar) goto done;
  }
  rc = 0;
done:
  if (rc != 0 && !msg[0]) fp8lab_h5_msg(msg, sizeof msg);
  if (rc != 0)
    seterr(err, errlen, "%s: %s: cannot write %s: %s", w->path, g->path, what,
           msg);
  if (gid >= 0) H5Gclose(gid);
  if (lcpl >= 0) H5Pclose(lcpl);
  fp8lab_h5_quiet_off(&q);
  return rc;
}

int fp8lab_trace_writer_close(fp8lab_trace_writer *w, char *err,
                              size_t errlen) {
  char msg[MSGLEN];
  if (!w) return seterr(err, errlen, "trace writer: none");
  fp8lab_h5_quiet q;
  fp8lab_h5_quiet_on(&q);
  herr_t hr = H5Fclose(w->file);
  w->file = 0;
  int rc = 0;
  if (hr < 0)
    rc = seterr(err, errlen, "%s: cannot write: %s", w->path,
                fp8lab_h5_msg(msg, sizeof msg));
  fp8lab_h5_quiet_off(&q);
  if (rc == 0 && rename(w->tmp, w->path) != 0)
    rc = seterr(err, errlen, "%s: cannot rename %s into place: %s", w->path,
                w->tmp, strerror(errno));
  if (rc == 0) {
    free(w->tmp);
    w->tmp = NULL;
  }
  fp8lab_trace_writer_abort(w); /* removes tmp only if it is still there */
  return rc;
}
