#include "CGit2.h"
