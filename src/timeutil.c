#include "timeutil.h"
