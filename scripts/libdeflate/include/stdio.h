/* libdeflate includes <stdio.h> only for its assertions, which this build leaves out (NDEBUG). */
#pragma once
