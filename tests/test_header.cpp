// The public header compiles on its own as C++ (extern "C", no C-only syntax).
#include "seqk.h"

int main()
{
    seqk_options o;
    seqk_options_init(&o);
    return o.struct_size == sizeof o ? 0 : 1;
}
