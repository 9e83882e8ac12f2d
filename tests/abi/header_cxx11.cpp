// Compiled with -std=c++11 -Wall -Wextra -pedantic -Werror by
// check-header.sh: the public header must be usable from C++ (extern "C",
// no C-only constructs).
#include <convpool.h>

#include <cstdio>

int main()
{
    convpool_desc *desc = nullptr;
    convpool_status st = convpool_desc_create(CONVPOOL_OP_CONV, 1, &desc);
    if (st == CONVPOOL_OK)
        st = convpool_desc_set_int(desc, CONVPOOL_ATTR_GROUP, 1);
    convpool_desc_destroy(desc);
    std::printf("C++11: libconvpool %s, %s\n", convpool_version(), convpool_status_string(st));
    return st == CONVPOOL_OK && convpool_version_number() == CONVPOOL_VERSION_NUMBER ? 0 : 1;
}
