/* fp8lab merge OUT IN...: the results files of the shards of one sweep
 * (each written with --shard I/N) combined into the file the unsharded run
 * would have written.  Generic over runners and tables:
 *   1. read     every input whole (fp8lab/results_read.h);
 *   2. check    against the first input: root schema, runner,
 *               fp8lab_version, git_commit and seed equal; every parameter
 *               equal except shard_index; shard_count equal; the shard
 *               indices 0 .. N-1 each present exactly once; the same tables
 *               with the same columns (name, type, units, description);
 *               no configuration index twice.  A mismatch is one line
 *               naming the file and the field, exit 2;
 *   3. merge    each table's rows concatenated and ordered by its `config`
 *               column (the configuration index) when it has one, else in
 *               shard order; parameters copied with shard_index = 0,
 *               shard_count = 1, as the unsharded run records them;
 *   4. write    under a temporary name, renamed over OUT when complete
 *               (removed on error or SIGINT/SIGTERM/SIGHUP).  Root
 *               attributes: the inputs' runner, version, commit and seed;
 *               command_line = this merge command; start_time / end_time
 *               the earliest start and latest end of the shards; threads
 *               the most any shard used; and merged_from (the inputs, one
 *               per line, in shard order), merged_command_lines (their
 *               command lines, same order), merged_shards (N) and
 *               merge_fp8lab_version (the version that merged). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fp8lab/results_read.h"
#include "fp8lab_config.h"
#include "fp8lab_version.h"
#include "runner.h"

static const char *const C = "merge";

static const char *const help =
    "usage: fp8lab merge OUT IN...\n\n"
    "Combine the results files of the shards of one sweep (each run with\n"
    "--shard I/N, I = 0 .. N-1) into OUT, the file the unsharded run would\n"
    "have written: every table's rows concatenated and ordered by their\n"
    "configuration index (column 'config'), parameters as the unsharded run\n"
    "records them (shard_index 0, shard_count 1).  Works for the results of\n"
    "any runner (docs/results-format.md, 'Merging shards').\n\n"
    "Refused (exit 2, one line naming the file and the field): files of\n"
    "different runners, fp8lab versions, git commits or seeds, different\n"
    "parameters (other than shard_index), different tables or columns, a\n"
    "shard given twice or missing, a configuration index in two files.\n\n"
    "OUT is written under a temporary name and renamed when complete; its\n"
    "root attributes record this command (command_line) and the inputs\n"
    "(merged_from, merged_command_lines, merged_shards).\n\n"
    "  -h, --help  this text\n\n"
    "example: fp8lab accum --shard 0/2 --out a0.h5; fp8lab accum --shard 1/2\n"
    "         --out a1.h5; fp8lab merge accum.h5 a0.h5 a1.h5\n";

/* ---- the temporary files, removed on any exit path ---------------------- */

static char pending[2][4096]; /* writer's temporary, our intermediate */
static volatile sig_atomic_t npending;

static void remove_pending(void) {
  for (int i = 0; i < npending; i++) unlink(pending[i]);
  npending = 0;
}

static void on_signal(int sig) {
  for (int i = 0; i < npending; i++) unlink(pending[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void guard_signals(void) {
  atexit(remove_pending);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

/* Register a temporary name with signals held, so that no interrupt falls
 * between its creation and its registration. */
static void hold(sigset_t *old) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, old);
}

static void release(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

/* ---- checks ------------------------------------------------------------- */

static const fp8lab_results_value *need(const fp8lab_results_file *f,
                                        bool param, const char *name,
                                        fp8lab_results_kind kind) {
  const fp8lab_results_value *v =
      param ? fp8lab_results_find(f->params, f->nparams, name)
            : fp8lab_results_find(f->root, f->nroot, name);
  if (!v)
    cli_die(C, "%s: %s%s missing: not a results file of a sharded run",
            f->path, param ? "parameter " : "root attribute ", name);
  if (v->kind != kind)
    cli_die(C, "%s: %s%s has an unexpected type", f->path,
            param ? "parameter " : "root attribute ", name);
  return v;
}

static void same_value(const fp8lab_results_file *a, const fp8lab_results_file *b,
                       bool param, const char *name) {
  const fp8lab_results_value *va =
      param ? fp8lab_results_find(a->params, a->nparams, name)
            : fp8lab_results_find(a->root, a->nroot, name);
  const fp8lab_results_value *vb =
      param ? fp8lab_results_find(b->params, b->nparams, name)
            : fp8lab_results_find(b->root, b->nroot, name);
  if (fp8lab_results_value_equal(va, vb)) return;
  char sa[512], sb[512];
  cli_die(C, "%s: %s%s is %s, but %s in %s: not shards of one run", b->path,
          param ? "parameter " : "root attribute ", name,
          fp8lab_results_value_str(vb, sb, sizeof sb),
          fp8lab_results_value_str(va, sa, sizeof sa), a->path);
}

static bool is_shard_param(const char *name) {
  return strcmp(name, "shard_index") == 0 || strcmp(name, "shard_count") == 0;
}

static const char *const type_names[] = {"f64", "i64", "u8", "str"};

static void same_tables(const fp8lab_results_file *a, const fp8lab_results_file *b) {
  for (size_t i = 0; i < a->ntables || i < b->ntables; i++) {
    if (i >= a->ntables || i >= b->ntables ||
        strcmp(a->tables[i].name, b->tables[i].name) != 0) {
      const char *name = i < b->ntables ? b->tables[i].name : a->tables[i].name;
      cli_die(C, "%s: tables differ from %s's (table %s)", b->path, a->path,
              name);
    }
    const fp8lab_results_table_data *ta = &a->tables[i], *tb = &b->tables[i];
    if (strcmp(ta->description, tb->description) != 0)
      cli_die(C, "%s: table %s: description differs from %s's", b->path,
              ta->name, a->path);
    if (ta->ncols != tb->ncols)
      cli_die(C, "%s: table %s: columns differ from %s's", b->path, ta->name,
              a->path);
    for (size_t c = 0; c < ta->ncols; c++) {
      const fp8lab_results_column *ca = &ta->cols[c], *cb = &tb->cols[c];
      if (strcmp(ca->name, cb->name) != 0)
        cli_die(C, "%s: table %s: column %zu is %s, but %s in %s", b->path,
                ta->name, c, cb->name, ca->name, a->path);
      if (ca->type != cb->type)
        cli_die(C, "%s: table %s: column %s is %s, but %s in %s", b->path,
                ta->name, ca->name, type_names[cb->type], type_names[ca->type],
                a->path);
      if (strcmp(ca->units, cb->units) != 0 ||
          strcmp(ca->description, cb->description) != 0)
        cli_die(C, "%s: table %s: column %s: units or description differ "
                "from %s's", b->path, ta->name, ca->name, a->path);
    }
  }
}

/* ---- merging ------------------------------------------------------------ */

typedef struct rowref {
  int64_t key;   /* config index, or the position in shard order */
  size_t file;   /* index into the inputs (shard order)          */
  size_t row;
} rowref;

static int cmp_rowref(const void *pa, const void *pb) {
  const rowref *a = pa, *b = pb;
  return (a->key > b->key) - (a->key < b->key);
}

static const size_t elem_size[] = {sizeof(double), sizeof(int64_t), 1,
                                   sizeof(char *)};

static int column_index(const fp8lab_results_table_data *t, const char *name) {
  for (size_t c = 0; c < t->ncols; c++)
    if (strcmp(t->cols[c].name, name) == 0 && t->cols[c].type == FP8LAB_RESULTS_I64)
      return (int)c;
  return -1;
}

static char *join_lines(fp8lab_results_file *const *f, size_t n, bool cmd) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(cmd ? fp8lab_results_find(f[i]->root, f[i]->nroot, "command_line")->s
                      : f[i]->path) + 1;
  char *s = malloc(len);
  if (!s) cli_fail(C, "out of memory");
  s[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(s, "\n");
    strcat(s, cmd ? fp8lab_results_find(f[i]->root, f[i]->nroot, "command_line")->s
                  : f[i]->path);
  }
  return s;
}

int cmd_merge(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (o) {
    case 'h': fputs(help, stdout); return 0;
    default: cli_die(C, "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (argc - optind < 2)
    cli_die(C, "need OUT and at least one IN (see --help)");
  const char *out = argv[optind];
  size_t n = (size_t)(argc - optind - 1);
  char **in = argv + optind + 1;
  for (size_t i = 0; i < n; i++)
    if (strcmp(in[i], out) == 0)
      cli_die(C, "%s: the output is also an input", out);

  /* 1. read */
  fp8lab_results_file **f = calloc(n, sizeof *f);
  if (!f) cli_fail(C, "out of memory");
  char err[1024];
  for (size_t i = 0; i < n; i++) {
    if (access(in[i], R_OK) != 0)
      cli_fail(C, "%s: cannot read: %s", in[i], strerror(errno));
    if (!(f[i] = fp8lab_results_read(in[i], err, sizeof err)))
      cli_die(C, "%s", err);
  }

  /* 2. check, and put the inputs in shard order */
  static const char *const root_fields[] = {"schema", "runner", "fp8lab_version",
                                            "git_commit", "seed"};
  for (size_t i = 0; i < n; i++) {
    need(f[i], false, "schema", FP8LAB_VALUE_STR);
    need(f[i], false, "runner", FP8LAB_VALUE_STR);
    need(f[i], false, "command_line", FP8LAB_VALUE_STR);
    need(f[i], true, "shard_index", FP8LAB_VALUE_I64);
    need(f[i], true, "shard_count", FP8LAB_VALUE_I64);
  }
  int64_t count = need(f[0], true, "shard_count", FP8LAB_VALUE_I64)->i;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof root_fields / sizeof root_fields[0]; k++)
      same_value(f[0], f[i], false, root_fields[k]);
    same_value(f[0], f[i], true, "shard_count");
    for (size_t p = 0; p < f[0]->nparams; p++)
      if (!is_shard_param(f[0]->params[p].name))
        same_value(f[0], f[i], true, f[0]->params[p].name);
    for (size_t p = 0; p < f[i]->nparams; p++)
      if (!is_shard_param(f[i]->params[p].name))
        same_value(f[0], f[i], true, f[i]->params[p].name);
    same_tables(f[0], f[i]);
  }
  if (count < 1 || (size_t)count > 1000000)
    cli_die(C, "%s: parameter shard_count is %" PRId64, f[0]->path, count);
  fp8lab_results_file **by_shard = calloc((size_t)count, sizeof *by_shard);
  if (!by_shard) cli_fail(C, "out of memory");
  for (size_t i = 0; i < n; i++) {
    int64_t s = fp8lab_results_find(f[i]->params, f[i]->nparams, "shard_index")->i;
    if (s < 0 || s >= count)
      cli_die(C, "%s: parameter shard_index is %" PRId64 ", outside 0..%" PRId64,
              f[i]->path, s, count - 1);
    if (by_shard[s])
      cli_die(C, "%s: parameter shard_index: shard %" PRId64 "/%" PRId64
              " is also %s", f[i]->path, s, count, by_shard[s]->path);
    by_shard[s] = f[i];
  }
  for (int64_t s = 0; s < count; s++)
    if (!by_shard[s])
      cli_die(C, "%s: parameter shard_index: shard %" PRId64 "/%" PRId64
              " is missing from the inputs", f[0]->path, s, count);
  size_t nf = (size_t)count; /* == n now */

  /* 3. merge: each table's rows in order */
  const fp8lab_results_file *f0 = by_shard[0];
  size_t nt = f0->ntables;
  fp8lab_results_column **cols = calloc(nt ? nt : 1, sizeof *cols);
  size_t *nrows = calloc(nt ? nt : 1, sizeof *nrows);
  if (!cols || !nrows) cli_fail(C, "out of memory");
  for (size_t t = 0; t < nt; t++) {
    const fp8lab_results_table_data *t0 = &f0->tables[t];
    size_t total = 0;
    for (size_t i = 0; i < nf; i++) total += by_shard[i]->tables[t].nrows;
    rowref *ref = calloc(total ? total : 1, sizeof *ref);
    if (!ref) cli_fail(C, "out of memory");
    int key = column_index(t0, "config");
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {
      const fp8lab_results_table_data *ti = &by_shard[i]->tables[t];
      for (size_t r = 0; r < ti->nrows; r++, k++)
        ref[k] = (rowref){key >= 0 ? ((const int64_t *)ti->cols[key].data)[r]
                                   : (int64_t)k,
                          i, r};
    }
    qsort(ref, total, sizeof *ref, cmp_rowref); /* keys distinct: stable */
    for (size_t r = 1; r < total; r++)
      if (ref[r].key == ref[r - 1].key)
        cli_die(C, "%s: table %s: column config: configuration %" PRId64
                " is also in %s", by_shard[ref[r].file]->path, t0->name,
                ref[r].key, by_shard[ref[r - 1].file]->path);
    cols[t] = calloc(t0->ncols, sizeof **cols);
    if (!cols[t]) cli_fail(C, "out of memory");
    for (size_t c = 0; c < t0->ncols; c++) {
      fp8lab_results_column *col = &cols[t][c];
      *col = t0->cols[c];
      size_t es = elem_size[col->type];
      char *data = malloc((total ? total : 1) * es);
      if (!data) cli_fail(C, "out of memory");
      for (size_t r = 0; r < total; r++)
        memcpy(data + r * es,
               (const char *)by_shard[ref[r].file]->tables[t].cols[c].data +
                   ref[r].row * es,
               es);
      col->data = data;
    }
    nrows[t] = total;
    free(ref);
  }

  /* 4. write */
  const char *start = NULL, *end = NULL;
  int64_t threads = 0;
  for (size_t i = 0; i < nf; i++) {
    const fp8lab_results_value *s = fp8lab_results_find(by_shard[i]->root,
                                                        by_shard[i]->nroot, "start_time");
    const fp8lab_results_value *e = fp8lab_results_find(by_shard[i]->root,
                                                        by_shard[i]->nroot, "end_time");
    const fp8lab_results_value *th = fp8lab_results_find(by_shard[i]->root,
                                                         by_shard[i]->nroot, "threads");
    if (s && s->kind == FP8LAB_VALUE_STR && (!start || strcmp(s->s, start) < 0))
      start = s->s;
    if (e && e->kind == FP8LAB_VALUE_STR && (!end || strcmp(e->s, end) > 0))
      end = e->s;
    if (th && th->kind == FP8LAB_VALUE_I64 && th->i > threads) threads = th->i;
  }
  char *line = runner_command_line(argc, argv);
  if (!line) cli_fail(C, "out of memory");
  const fp8lab_results_value *seed =
      fp8lab_results_find(f0->root, f0->nroot, "seed");
  fp8lab_results_info info = {
      .runner = fp8lab_results_find(f0->root, f0->nroot, "runner")->s,
      .version = need(f0, false, "fp8lab_version", FP8LAB_VALUE_STR)->s,
      .git_commit = need(f0, false, "git_commit", FP8LAB_VALUE_STR)->s,
      .command_line = line,
      .seed = seed && seed->kind == FP8LAB_VALUE_U64 ? seed->u : 0,
      .threads = threads,
      .start_time = start};
  /* The writer's file goes to an intermediate name next to OUT; the merge
   * provenance is added to it, then it is renamed over OUT. */
  size_t plen = strlen(out) + 48;
  char *mid = malloc(plen);
  if (!mid) cli_fail(C, "out of memory");
  snprintf(mid, plen, "%s.merge.%ld", out, (long)getpid());
  if (strlen(mid) >= sizeof pending[0]) cli_die(C, "%s: name too long", out);
  guard_signals();
  sigset_t old;
  hold(&old);
  fp8lab_results *res = fp8lab_results_create(mid, &info, err, sizeof err);
  if (res) {
    snprintf(pending[0], sizeof pending[0], "%s", fp8lab_results_tmp_path(res));
    snprintf(pending[1], sizeof pending[1], "%s", mid);
    npending = 2;
  }
  release(&old);
  if (!res) cli_fail(C, "%s", err);
  int rc = 0;
  for (size_t p = 0; p < f0->nparams && rc == 0; p++) {
    const fp8lab_results_value *v = &f0->params[p];
    if (strcmp(v->name, "description") == 0) continue; /* the writer's own */
    if (is_shard_param(v->name))
      rc = fp8lab_results_param_i64(
          res, v->name, strcmp(v->name, "shard_count") == 0 ? 1 : 0, err, sizeof err);
    else if (v->kind == FP8LAB_VALUE_STR)
      rc = fp8lab_results_param_str(res, v->name, v->s, err, sizeof err);
    else if (v->kind == FP8LAB_VALUE_I64)
      rc = fp8lab_results_param_i64(res, v->name, v->i, err, sizeof err);
    else if (v->kind == FP8LAB_VALUE_F64)
      rc = fp8lab_results_param_f64(res, v->name, v->f, err, sizeof err);
    else if (v->kind == FP8LAB_VALUE_I64S)
      rc = fp8lab_results_param_i64s(res, v->name, v->v, v->n, err, sizeof err);
    else
      snprintf(err, sizeof err, "%s: parameter %s: unsupported type", f0->path,
               v->name), rc = -1;
  }
  for (size_t t = 0; t < nt && rc == 0; t++)
    rc = fp8lab_results_table(res, f0->tables[t].name, f0->tables[t].description,
                              nrows[t], cols[t], f0->tables[t].ncols, err,
                              sizeof err);
  if (rc != 0) {
    fp8lab_results_abort(res);
    cli_fail(C, "%s", err);
  }
  if (fp8lab_results_close(res, end, err, sizeof err) != 0) cli_fail(C, "%s", err);
  /* close renamed the writer's temporary to mid */
  char *from = join_lines(by_shard, nf, false);
  char *cmds = join_lines(by_shard, nf, true);
  char nshards[32];
  snprintf(nshards, sizeof nshards, "%" PRId64, count);
  const char *names[] = {"merged_from", "merged_command_lines", "merged_shards",
                         "merge_fp8lab_version"};
  const char *values[] = {from, cmds, nshards, FP8LAB_VERSION};
  if (fp8lab_results_add_root_strs(mid, names, values,
                                   sizeof names / sizeof names[0], err,
                                   sizeof err) != 0)
    cli_fail(C, "%s", err);
  if (rename(mid, out) != 0)
    cli_fail(C, "%s: cannot rename %s into place: %s", out, mid, strerror(errno));
  npending = 0;
  size_t rows = 0;
  for (size_t t = 0; t < nt; t++) rows += nrows[t];
  printf("%s: %" PRId64 " shards of '%s' merged: %zu table%s, %zu rows\n", out,
         count, info.runner, nt, nt == 1 ? "" : "s", rows);

  free(from), free(cmds), free(mid), free(line);
  for (size_t t = 0; t < nt; t++) {
    for (size_t c = 0; c < f0->tables[t].ncols; c++) free((void *)cols[t][c].data);
    free(cols[t]);
  }
  free(cols), free(nrows), free(by_shard);
  for (size_t i = 0; i < n; i++) fp8lab_results_file_free(f[i]);
  free(f);
  return 0;
}
