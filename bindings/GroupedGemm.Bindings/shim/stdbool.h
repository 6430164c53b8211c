/* Minimal <stdbool.h> for the bindings generator (see stddef.h). */
#ifndef GG_BINDINGS_SHIM_STDBOOL_H
#define GG_BINDINGS_SHIM_STDBOOL_H
#define bool _Bool
#define true 1
#define false 0
#endif
