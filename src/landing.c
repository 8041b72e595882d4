#include "landing.h"
