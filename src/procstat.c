#include "procstat.h"
