/*
 * External tensor data: read only from regular files inside the model's
 * own directory. The location must be relative and free of "..", and its
 * resolved path (symlinks followed) must still lie under the resolved
 * directory, so neither "../x", "/etc/x" nor a symlink out can escape. The
 * file is opened without blocking and must be a regular file, so a FIFO or
 * a device named as external data is refused rather than waited on.
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

/*
 * Opens `location` under `dir` after the containment checks above. A
 * location that does not resolve (missing file, dangling link) and one that
 * resolves outside the directory get the same status and message, so that
 * a model cannot probe what exists outside its directory or where a link
 * points.
 */
static convpool_status open_inside(const char *dir, const char *location, const char *what,
                                   int *fd_out, struct stat *sb)
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
    int inside = realpath(joined, real_file) != NULL;
    size_t dlen = strlen(real_dir);
    inside = inside && strncmp(real_file, real_dir, dlen) == 0 &&
             (real_file[dlen] == '/' || (dlen == 1 && real_dir[0] == '/'));
    if (!inside)
        return cp_fail(CONVPOOL_ERROR_IO,
                       "tensor '%s': external data '%s' is not a file inside the model's "
                       "directory '%s' (missing, or a link leading out of it)",
                       what, location, dir);
    /* O_NOFOLLOW: the resolved path has no link left; one put there since
     * is not followed. */
    char shown[PATH_MAX + 64];
    snprintf(shown, sizeof shown, "external data '%s' of tensor '%s'", location, what);
    return cp_open_regular(real_file, O_NOFOLLOW, shown, fd_out, sb);
}

convpool_status cp_read_external(const char *dir, const char *location, uint64_t offset,
                                 size_t length, void *dest, const char *what)
{
    int fd;
    struct stat sb;
    convpool_status st = open_inside(dir, location, what, &fd, &sb);
    if (st != CONVPOOL_OK)
        return st;
    if (offset > (uint64_t)sb.st_size || length > (uint64_t)sb.st_size - offset) {
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
