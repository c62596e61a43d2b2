/* The public header compiles on its own, first thing in a C unit. */
#include "seqk.h"

int main(void)
{
    seqk_options o;
    seqk_options_init(&o);
    return o.struct_size == sizeof o ? 0 : 1;
}
