/* The declarations libdeflate includes from <string.h>, for a freestanding build (see ../shim.c). */
#pragma once
#include <stddef.h>
void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
