/* The declarations libdeflate includes from <stdlib.h>, for a freestanding build (see ../shim.c). */
#pragma once
#include <stddef.h>
void *malloc(size_t);
void free(void *);
void abort(void);
