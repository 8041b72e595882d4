#include "expfmt.h"
