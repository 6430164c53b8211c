/* Minimal <stddef.h> for the bindings generator. It parses the header with -nostdinc so that the
 * generated C# does not depend on the host's C library; types are mapped by their typedef names. */
#ifndef GG_BINDINGS_SHIM_STDDEF_H
#define GG_BINDINGS_SHIM_STDDEF_H
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#define NULL ((void*)0)
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
