/*
 * cl_probe.c — lists the OpenCL devices the ICD loader reports, every
 * platform and every device, so that `seqk info` and the device specs
 * opencl / opencl:P.D can name them (the device table's probe, called
 * once per process by core/registry.c).
 */
#include <stdio.h>
#include <string.h>

#include "opencl/cl_backend.h"

int seqk__cl_probe(seqk_device_desc *out, int max, char *why, size_t why_len)
{
    cl_platform_id platforms[8];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(8, platforms, &np);
    if (err != CL_SUCCESS || np == 0) {
        snprintf(why, why_len,
                 "the OpenCL ICD loader found no platform (error %d); "
                 "install a driver such as pocl-opencl-icd", (int)err);
        return 0;
    }
    if (np > 8)
        np = 8;
    int n = 0;
    for (cl_uint p = 0; p < np; p++) {
        char pname[64] = "";
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof pname - 1,
                          pname, NULL);
        cl_device_id devs[SEQK_MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL,
                           SEQK_MAX_DEVICES, devs, &nd) != CL_SUCCESS)
            continue;
        if (nd > SEQK_MAX_DEVICES)
            nd = SEQK_MAX_DEVICES;
        for (cl_uint d = 0; d < nd && n < max; d++, n++) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].platform = (int)p;
            out[n].device = (int)d;
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof out[n].name - 1,
                            out[n].name, NULL);
            snprintf(out[n].platform_name, sizeof out[n].platform_name, "%s",
                     pname);
        }
    }
    if (n == 0)
        snprintf(why, why_len, "the OpenCL platforms report no device");
    return n;
}
