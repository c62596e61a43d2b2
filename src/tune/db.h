/*
 * db.h — the tuning database: device fingerprints, entries, the JSON file
 * (cJSON) and the lookup with its fallback hierarchy.  Used by the
 * library (tunable.c through seqk__tune_db_lookup) and by `seqk tune`,
 * whose library (top-level tune/) also writes the file: tune/db_write.h.
 *
 * File: $SEQK_TUNING_DB (or seqk_options.tuning_db), else
 * $XDG_CACHE_HOME/seqk/tuning.json, else ~/.cache/seqk/tuning.json.
 */
#ifndef SEQK_TUNE_DB_H
#define SEQK_TUNE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "tune/tune.h"
#include "tune/tune_state.h"

#define SEQK_TUNE_DB_VERSION 1
/* Larger files are refused (a tuning database is a few hundred KiB). */
#define SEQK_TUNE_DB_MAX_BYTES (16u << 20)

/* Device fingerprint.  OpenCL: vendor, device name, compute units, local
 * memory, driver version, platform version.  CPU (backend "avx512",
 * "avx2", "neon"): vendor, name, family/model, ISA flags, caches; driver
 * and platform are empty. */
typedef struct seqk_tune_fp {
    char backend[16];
    char vendor[128];
    char device[128];
    char driver[64];
    char platform[128];
    int compute_units;          /* CPU: physical cores */
    int64_t local_mem;          /* OpenCL local memory; CPU: 0 */
    int cpu_family, cpu_model;  /* CPU: from cpuinfo/CPUID; OpenCL: 0 */
    char isa[128];              /* CPU: usable ISA flags "avx2,fma,..." */
    int64_t l1d, l2, l3;        /* CPU caches; OpenCL: 0 */
} seqk_tune_fp;

/* How well an entry's device matches the running one (lookup order). */
typedef enum seqk_tune_match {
    SEQK_TUNE_MATCH_NONE = 0,
    SEQK_TUNE_MATCH_VENDOR,       /* same backend and vendor */
    SEQK_TUNE_MATCH_NAME,         /* + same device name */
    SEQK_TUNE_MATCH_OTHER_DRIVER, /* + same hardware fingerprint, other
                                     driver/platform: re-verified once */
    SEQK_TUNE_MATCH_EXACT         /* everything equal */
} seqk_tune_match;

/* A driver/platform on which `seqk tune --check` re-verified an entry
 * tuned under another driver of the same hardware (OTHER_DRIVER). */
#define SEQK_TUNE_MAX_VERIFIED 4
typedef struct seqk_tune_verified {
    char driver[64];
    char platform[128];
} seqk_tune_verified;

typedef struct seqk_tune_entry {
    seqk_tune_fp fp;
    char kernel[64];            /* seqk_tunable.id */
    char source_hash[17];       /* seqk__tunable_hash() */
    char dtype[8];              /* "f32" */
    int num_shape;
    int bucket[SEQK_TUNE_MAX_SHAPE];
    int num_params;
    char names[SEQK_TUNE_MAX_PARAMS][16];
    int values[SEQK_TUNE_MAX_PARAMS];
    double median_ms, min_ms;   /* of the chosen values */
    double default_ms;          /* median of the defaults, same run */
    char tuner_version[16];
    char date[32];              /* ISO 8601 UTC */
    int num_verified;           /* other drivers it was re-verified on */
    seqk_tune_verified verified[SEQK_TUNE_MAX_VERIFIED];
} seqk_tune_entry;

/* speedup over the defaults (default_ms / median_ms; 0 if unknown). */
double seqk__tune_entry_speedup(const seqk_tune_entry *e);

/* How well the device of an entry (entry_fp) matches fp. */
seqk_tune_match seqk__tune_fp_match(const seqk_tune_fp *entry_fp,
                                   const seqk_tune_fp *fp);
/* "exact device", "same device, other driver", ... (for messages). */
const char *seqk__tune_match_name(seqk_tune_match m);
/* 1 when e may be used on fp without re-verification: its device is the
 * same with the same driver, or fp's driver/platform is in e->verified. */
int seqk__tune_entry_verified(const seqk_tune_entry *e,
                             const seqk_tune_fp *fp);
/* Records fp's driver/platform in e->verified (the oldest is dropped when
 * full); `seqk tune --check` does this after re-timing the entry. */
void seqk__tune_entry_mark_verified(seqk_tune_entry *e,
                                   const seqk_tune_fp *fp);

/* The fingerprint of ctx's device. */
void seqk__tune_fingerprint(seqk_context *ctx, seqk_tune_fp *fp);
/* Hex FNV-1a 64 of the tunable's kernel source (embedded or
 * $SEQK_KERNEL_DIR) and parameter names, or of the library version and
 * parameter names for host code. */
void seqk__tunable_hash(const seqk_tunable *t, char hash[17]);
/* The database path for ctx (its option/env, else the default); ctx NULL:
 * $SEQK_TUNING_DB, else the default.  "" when there is none (no
 * $XDG_CACHE_HOME nor $HOME) or it does not fit in len. */
void seqk__tune_db_path(const seqk_context *ctx, char *buf, size_t len);

seqk_tune_db *seqk__tune_db_new(void);
/* Reads path.  A missing file gives an empty database and SEQK_OK.  A file
 * that is unreadable, too large, not JSON, truncated, of another version
 * or with malformed entries gives an error status, a message in msg and
 * *db = NULL (entries with unknown kernels are kept; malformed ones make
 * the whole file rejected: a half-trusted file is not used). */
seqk_status seqk__tune_db_read(const char *path, seqk_tune_db **db,
                              char *msg, size_t msg_len);
/* Parses text (len bytes, need not be NUL-terminated); same rules. */
seqk_status seqk__tune_db_parse(const char *text, size_t len,
                               seqk_tune_db **db, char *msg, size_t msg_len);
int seqk__tune_db_count(const seqk_tune_db *db);
const seqk_tune_entry *seqk__tune_db_get(const seqk_tune_db *db, int i);
/* Lookup: the best entry for tunable t (hash = its current source hash)
 * on device fp for a problem of `shape`: device match as high as possible
 * (EXACT > OTHER_DRIVER > NAME > VENDOR), then the exact bucket, else the
 * nearest bucket (L1 distance) at most one bucket away in every
 * dimension whose values are legal for this shape
 * under lim; only entries whose speedup is > 1, dtype "f32", and whose
 * parameter names are t's.  Ties: higher speedup, then file order.
 * OTHER_DRIVER entries count only when verified for fp (see
 * seqk__tune_entry_verified), as the library uses them.  Returns the entry
 * (NULL if none) and its match level (match may be NULL). */
const seqk_tune_entry *seqk__tune_db_find(const seqk_tune_db *db,
                                         const seqk_tune_fp *fp,
                                         const seqk_tunable *t,
                                         const char *hash,
                                         const int64_t *shape,
                                         const seqk_tune_limits *lim,
                                         seqk_tune_match *match);
/* The same with flags: SEQK_TUNE_FIND_UNVERIFIED also returns
 * OTHER_DRIVER entries not verified for fp (for `seqk tune --check`). */
#define SEQK_TUNE_FIND_UNVERIFIED 1u
const seqk_tune_entry *seqk__tune_db_find_ex(const seqk_tune_db *db,
                                            const seqk_tune_fp *fp,
                                            const seqk_tunable *t,
                                            const char *hash,
                                            const int64_t *shape,
                                            const seqk_tune_limits *lim,
                                            unsigned flags,
                                            seqk_tune_match *match);

#endif /* SEQK_TUNE_DB_H */
