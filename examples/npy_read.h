/*
 * npy_read.h — a small reader of NumPy .npy files for the examples (public
 * seqk API only, so the examples do not link the tool's reader): version
 * 1/2/3 headers, C order, little-endian '<f4', '<i4', '<i8'.
 */
#ifndef SEQK_EXAMPLE_NPY_READ_H
#define SEQK_EXAMPLE_NPY_READ_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    char type;                /* 'f' (float32), 'i' (int32), 'l' (int64) */
    int ndim;
    int64_t dims[NPY_MAX_DIMS];
    size_t count;             /* elements */
    void *data;               /* malloc'd; free() it */
} npy_array;

/* Reads path into *a.  Returns 0, or -1 with a message in err. */
int npy_read(const char *path, npy_array *a, char *err, size_t err_size);

#endif
