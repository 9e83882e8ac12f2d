/*
 * External tensor data: read only from regular files inside the model's
 * own directory. The location must be relative and free of "..", and its
 * resolved path (symlinks followed) must still lie under the resolved
 * directory, so neither "../x", "/etc/x" nor a symlink out can escape.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/tensor.h"
#include "runtime/error.h"

/* Whether `location` has a ".." path component. */
static int has_dotdot(const char *location)
{
    for (const char *p = location; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* Opens `location` under `dir` after the containment checks above. */
static convpool_status open_inside(const char *dir, const char *location, const char *what,
                                   int *fd_out)
{
    if (location[0] == '/' || has_dotdot(location))
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': external data location '%s' is outside the model's "
                       "directory (absolute paths and '..' are refused)",
                       what, location);
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s/%s", dir, location);
    if (n < 0 || (size_t)n >= sizeof joined)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "tensor '%s': external data path is too long",
                       what);
    char real_dir[PATH_MAX], real_file[PATH_MAX];
    if (!realpath(dir, real_dir))
        return cp_fail(CONVPOOL_ERROR_IO,
                       "tensor '%s': cannot resolve the model directory "
                       "'%s': %s",
                       what, dir, strerror(errno));
    if (!realpath(joined, real_file))
        return cp_fail(CONVPOOL_ERROR_IO, "tensor '%s': external data file '%s': %s", what,
                       location, strerror(errno));
    size_t dlen = strlen(real_dir);
    int inside = strncmp(real_file, real_dir, dlen) == 0 &&
                 (real_file[dlen] == '/' || (dlen == 1 && real_dir[0] == '/'));
    if (!inside)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "tensor '%s': external data location '%s' resolves to '%s', outside "
                       "the model's directory '%s'",
                       what, location, real_file, real_dir);
    int fd = open(real_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cp_fail(CONVPOOL_ERROR_IO, "tensor '%s': cannot open external data '%s': %s", what,
                       location, strerror(errno));
    *fd_out = fd;
    return CONVPOOL_OK;
}

convpool_status cp_read_external(const char *dir, const char *location, uint64_t offset,
                                 size_t length, void *dest, const char *what)
{
    int fd;
    convpool_status st = open_inside(dir, location, what, &fd);
    if (st != CONVPOOL_OK)
        return st;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cp_fail(CONVPOOL_ERROR_IO, "tensor '%s': external data '%s' is not a regular file",
                     what, location);
    } else if (offset > (uint64_t)sb.st_size || length > (uint64_t)sb.st_size - offset) {
        st = cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                     "tensor '%s': external data '%s' has %lld bytes; the tensor needs %zu at "
                     "offset %llu",
                     what, location, (long long)sb.st_size, length, (unsigned long long)offset);
    } else {
        uint8_t *out = dest;
        for (size_t got = 0; got < length;) {
            ssize_t r = pread(fd, out + got, length - got, (off_t)(offset + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                st = cp_fail(CONVPOOL_ERROR_IO, "tensor '%s': cannot read external data '%s'", what,
                             location);
                break;
            }
            got += (size_t)r;
        }
    }
    close(fd);
    return st;
}
