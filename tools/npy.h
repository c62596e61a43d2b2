/*
 * npy.h — reading and writing NumPy .npy files for the seqk tool and the
 * tests.
 *
 * Supported: format versions 1.0, 2.0 and 3.0 (3.0 only differs by a UTF-8
 * header); little-endian float32 ('<f4'), int32 ('<i4'), int64 ('<i8') and
 * bool ('|b1'); C order; 0 to 8 dimensions.  Everything else is refused
 * with a one-line message that says what was found and what to do.
 *
 * File layout:
 *   "\x93NUMPY" major minor  header_len (u16 LE for 1.0, u32 LE for 2.0/3.0)
 *   header: a Python dict literal such as
 *           {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *           padded with spaces and ended by '\n' so the data starts on a
 *           64-byte boundary
 *   data:   numel * itemsize bytes, C order
 *
 * The reader never trusts the header: sizes are overflow-checked and
 * compared with the real file size before anything is allocated.  The
 * writer writes PATH.tmp and renames it over PATH, so a failure never
 * leaves a half-written PATH behind.
 */
#ifndef SEQK_TOOLS_NPY_H
#define SEQK_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

typedef enum npy_dtype {
    NPY_F32 = 1, /* '<f4' */
    NPY_I32,     /* '<i4' */
    NPY_I64,     /* '<i8' */
    NPY_BOOL     /* '|b1', one byte, read as 0 or 1 */
} npy_dtype;

typedef enum npy_status {
    NPY_OK = 0,
    NPY_ERR_ARG,         /* bad argument to an npy_ function */
    NPY_ERR_IO,          /* cannot open, read, write or rename */
    NPY_ERR_FORMAT,      /* not a well-formed .npy file */
    NPY_ERR_UNSUPPORTED, /* well-formed but a dtype/order we do not read */
    NPY_ERR_NOMEM        /* allocation failed */
} npy_status;

typedef struct npy_array {
    npy_dtype dtype;
    int ndim;
    int64_t dims[NPY_MAX_DIMS];
    int64_t numel;
    void *data;   /* malloc'd, host byte order; never NULL after a read */
    size_t bytes; /* numel * itemsize */
} npy_array;

/* Reads path into out (zeroed first).  On failure returns the status, out
 * holds nothing to free, and err (if not NULL) gets one line starting with
 * the path. */
npy_status npy_read(const char *path, npy_array *out, char *err,
                    size_t err_len);

/* Writes an array of dtype with the given shape; data may be NULL only
 * when the array is empty. */
npy_status npy_write(const char *path, npy_dtype dtype, int ndim,
                     const int64_t *dims, const void *data, char *err,
                     size_t err_len);
npy_status npy_write_f32(const char *path, int ndim, const int64_t *dims,
                         const float *data, char *err, size_t err_len);

/* npy_write in two steps, so that several files appear together or not
 * at all: npy_stage writes the array to a fresh temporary beside path
 * (*staged, malloc'd; NULL on failure), npy_commit renames it over path
 * (and frees the name; on failure the temporary is removed), npy_discard
 * removes it. */
npy_status npy_stage(const char *path, npy_dtype dtype, int ndim,
                     const int64_t *dims, const void *data, char **staged,
                     char *err, size_t err_len);
npy_status npy_commit(char *staged, const char *path, char *err,
                      size_t err_len);
void npy_discard(char *staged);

/* Frees out->data and zeroes out; NULL and zeroed arrays are fine. */
void npy_free(npy_array *a);

/* "float32", "int32", "int64", "bool"; "unknown" otherwise. */
const char *npy_dtype_name(npy_dtype dtype);
/* 4, 4, 8, 1; 0 for an unknown dtype. */
size_t npy_dtype_size(npy_dtype dtype);

#endif /* SEQK_TOOLS_NPY_H */
